/* cluster.c -- placeholder, being written. */
#include "config.h"
#include "pgcutover/util.h"
typedef int pgc_placeholder_cluster;
