#!/usr/bin/env bash
# Builds the test helpers in TestSupport/fakes into .build/fakes: the MJPEG camera feeder and the uinput
# card reader / PIN pad for the device-test VM.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .build/fakes
cc -O1 -Wall -Wextra -o .build/fakes/mjpeg_feeder TestSupport/fakes/mjpeg_feeder.c
cc -O1 -Wall -Wextra -o .build/fakes/uinput_reader TestSupport/fakes/uinput_reader.c
