#!/usr/bin/env bash
# Builds the test helpers in TestSupport/fakes into .build/fakes: the MJPEG camera feeder, the colour +
# infrared camera pair feeder, the uinput card reader / PIN pad and the Wiegand line driver (gpio-sim) for
# the device-test VM, and the libgpiod 1.x build of the CGPIOShim test.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .build/fakes
cc -O1 -Wall -Wextra -o .build/fakes/mjpeg_feeder TestSupport/fakes/mjpeg_feeder.c
cc -O1 -Wall -Wextra -o .build/fakes/paired_feeder TestSupport/fakes/paired_feeder.c
cc -O1 -Wall -Wextra -o .build/fakes/uinput_reader TestSupport/fakes/uinput_reader.c
cc -O2 -Wall -Wextra -o .build/fakes/wiegand_sender TestSupport/fakes/wiegand_sender.c
# CGPIOShim against gpio-sim, libgpiod 1.x build (the 2.x build: TestSupport/gpiod2-compile-check.sh).
cc -O1 -Wall -Wextra -I Sources/CGPIOShim/include -o .build/fakes/gpiod-shim-test TestSupport/gpiod-shim-test.c \
  Sources/CGPIOShim/gate_gpio.c -lgpiod
