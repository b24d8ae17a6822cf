// SPDX-License-Identifier: Apache-2.0

/* Printers for items.h, shared by ours.c and real.c. */
#include <stddef.h>
#include <stdio.h>
#define ABI_VALUE(x) printf("value %s = %lld\n", #x, (long long)(x));
#define ABI_SIZE(t) printf("size %s = %zu\n", #t, sizeof(t));
#define ABI_OFFSET(t, f) printf("offset %s.%s = %zu\n", #t, #f, offsetof(t, f));
