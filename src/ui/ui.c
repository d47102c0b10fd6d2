/* ui.c -- placeholder. */
#include "config.h"
typedef int pgc_placeholder_ui;
