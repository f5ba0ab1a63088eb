#!/usr/bin/env bash
# Compile-checks CGPIOShim's libgpiod 2.x branch on Debian 12 (which ships 1.6): downloads Debian 13's
# libgpiod-dev and libgpiod3 from Debian's own mirror with a private apt configuration (the system's
# sources.list is not touched, nothing is installed), builds gate_gpio.c with -Werror against the 2.x
# header, links it against libgpiod.so.3 and runs a probe that reports the API and opens a missing chip.
# Also builds WORKDIR/gpiod-shim-test (TestSupport/gpiod-shim-test.c, 2.x), which scripts/hwtest runs
# against gpio-sim in the VM with LD_LIBRARY_PATH=WORKDIR/root/usr/lib/x86_64-linux-gnu.
# Usage: TestSupport/gpiod2-compile-check.sh [WORKDIR]   (default .build/gpiod2)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-$ROOT/.build/gpiod2}
mkdir -p "$W/lists/partial" "$W/archives/partial" && cd "$W"
echo "deb http://deb.debian.org/debian trixie main" > sources.list
APT=(-o Dir::Etc::SourceList="$W/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$W/lists"
     -o Dir::Cache::Archives="$W/archives" -o Dir::State::Status=/dev/null -o APT::Get::List-Cleanup=0)
ls libgpiod-dev_*.deb >/dev/null 2>&1 || { apt-get "${APT[@]}" update -qq; apt-get "${APT[@]}" download libgpiod-dev libgpiod3 2>/dev/null; }
rm -rf root && for deb in libgpiod-dev_*.deb libgpiod3_*.deb; do dpkg -x "$deb" root; done
LIB=root/usr/lib/x86_64-linux-gnu
SHIM=$ROOT/Sources/CGPIOShim
gcc -std=c11 -Wall -Wextra -Werror -c -I root/usr/include -I "$SHIM/include" "$SHIM/gate_gpio.c" -o gate_gpio_v2.o
cat > probe.c <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gate_gpio.h"
int main(void) {
    gate_gpio_output *line = gate_gpio_open_output("gpiochip-optgate-missing", 3, 0, "probe");
    printf("libgpiod %s (API v%d); missing chip: %s\n", gate_gpio_library_version(), gate_gpio_api_major(),
           line ? "opened?!" : strerror(errno));
    return gate_gpio_api_major() == 2 && !line ? 0 : 1;
}
C
gcc -Wall -Werror -I "$SHIM/include" probe.c gate_gpio_v2.o -L "$LIB" -l:libgpiod.so.3 -o probe
LD_LIBRARY_PATH=$LIB ./probe
gcc -std=c11 -Wall -Wextra -Werror -I "$SHIM/include" "$ROOT/TestSupport/gpiod-shim-test.c" gate_gpio_v2.o \
  -L "$LIB" -l:libgpiod.so.3 -o gpiod-shim-test
