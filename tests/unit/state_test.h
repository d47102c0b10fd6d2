/*
 * state_test.h -- for unit tests only: the state's SQLite handle, so a test
 * can age a lease or count rows behind the modules' backs.  Not part of
 * include/pgcutover/state.h: no module outside state.c sees SQLite.
 */
#ifndef PGCUTOVER_STATE_TEST_H
#define PGCUTOVER_STATE_TEST_H

#include <sqlite3.h>
#include "pgcutover/state.h"

sqlite3 *state_db_for_tests(state *st);

#endif
