/* SPDX-License-Identifier: MIT */
#include "tests/support/expr_support.h"
static Suite *s_(void){Suite *s = suite_create("x"); return s;}
CEP_TEST_MAIN(s_)
