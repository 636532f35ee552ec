/* vecgate-probe: the CPU probe as a command, for build scripts and tests.
 *   vecgate-probe                 arch, features and variants, one per line
 *   vecgate-probe can-run VARIANT prints yes or no (and what is missing) */
#include <stdio.h>
#include <string.h>

#include "vecgate-probe.h"

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "can-run") == 0) {
    char missing[512];
    int n = vg_probe_variant_missing(argv[2], missing, sizeof missing);
    if (n == 0) puts("yes");
    else printf("no: %s\n", n < 0 ? missing : missing);
    return 0;
  }
  printf("arch %s\nfeatures %s\nvariants %s\n", vg_probe_arch(), vg_probe_cpu_features(),
         vg_probe_variants());
  return 0;
}
