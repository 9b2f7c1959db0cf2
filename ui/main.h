/* main.h - exit codes shared by the program's modes. */
#ifndef CONFAB_MAIN_H
#define CONFAB_MAIN_H

#define EXIT_OK        0   /* success */
#define EXIT_FAILURE_  1   /* a runtime failure */
#define EXIT_USAGE     2   /* bad command line */
#define EXIT_IDLE_TIMEOUT 3   /* headless --exit-when-idle: not idle in time */

#endif
