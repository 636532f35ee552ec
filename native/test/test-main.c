/* Runs every registered test (or those whose name contains --filter). */
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "vecgate.h"
#include "test.h"

#define MAX_TESTS 256
static struct {
  const char *name;
  test_fn_t *fn;
} tests[MAX_TESTS];
static int n_tests, failures_in_test;
static char tmpdir[256];

void test_register(const char *name, test_fn_t *fn) {
  if (n_tests < MAX_TESTS) {
    tests[n_tests].name = name;
    tests[n_tests++].fn = fn;
  }
}

void test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "    %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures_in_test++;
}

const char *test_tmpdir(void) { return tmpdir; }

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

int main(int argc, char **argv) {
  const char *filter = NULL;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) filter = argv[++i];
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vecgate-test-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 2;
  }
  int passed = 0, failed = 0;
  printf("variant %s\n", vg_variant_name());
  for (int i = 0; i < n_tests; i++) {
    if (filter && !strstr(tests[i].name, filter)) continue;
    failures_in_test = 0;
    tests[i].fn();
    printf("  %s %s\n", failures_in_test ? "FAIL" : "ok  ", tests[i].name);
    fflush(stdout);
    if (failures_in_test) failed++;
    else passed++;
  }
  /* No shell: under qemu-user there is none of the target's to run rm. */
  if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
