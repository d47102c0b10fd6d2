/* common.c -- placeholder. */
#include "config.h"
#include "pgcutover/cli.h"
typedef int pgc_placeholder_common;
