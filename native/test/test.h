/* A small test harness: TEST(name) registers a test; CHECK* record
 * failures with file and line; the runner prints "N passed, N failed". */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void test_fn_t(void);
void test_register(const char *name, test_fn_t *fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scratch directory for this run's files. */
const char *test_tmpdir(void);

#define TEST(name)                                                                  \
  static void name(void);                                                           \
  __attribute__((constructor)) static void name##_register(void) { test_register(#name, name); } \
  static void name(void)

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);     \
  } while (0)
#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    long long _a = (long long)(a), _b = (long long)(b);                                     \
    if (_a != _b) test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
  } while (0)
#define CHECK_STR_CONTAINS(s, sub)                                                          \
  do {                                                                                      \
    const char *_s = (s);                                                                   \
    if (!_s || !strstr(_s, (sub)))                                                          \
      test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", _s ? _s : "(null)", (sub)); \
  } while (0)
/* Stops the test when cond fails (for pointers the rest depends on). */
#define REQUIRE(cond)                                                   \
  do {                                                                  \
    if (!(cond)) {                                                      \
      test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);              \
      return;                                                           \
    }                                                                   \
  } while (0)

#endif
