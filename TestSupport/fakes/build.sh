#!/usr/bin/env bash
# Builds the test helpers in TestSupport/fakes into .build/fakes.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .build/fakes
cc -O1 -Wall -Wextra -o .build/fakes/mjpeg_feeder TestSupport/fakes/mjpeg_feeder.c
