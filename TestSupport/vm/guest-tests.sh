#!/bin/sh
# Runs inside the device-test VM (TestSupport/vm/run.sh), chrooted into the host's / (read-only) with
# the writable share as cwd (/mnt). Devices: vivid /dev/video0 (YUYV), v4l2loopback /dev/video10 (colour)
# and /dev/video11 (its infrared partner), gpio-sim (configured here). Prepared on the host by scripts/hwtest:
# /mnt/frames/*.jpg (640x480 face photos), /mnt/infrared/{live,screen}.grey (the infrared frames a live face
# and a phone screen give, raw GREY), /mnt/state (a resident with consent, an enrolled face, card
# 04A1B2C3D4E5F6 and PIN 246813).
# uinput readers are made here with .build/fakes/uinput_reader. Prints PASS/FAIL lines; exit
# status 0 only when everything passed.
set -u
PKG=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$PKG/.build/debug
VMW=${VMW:-$PKG/.build/vm}
OUT=/mnt
LOGS=$OUT/logs
# Writable scratch on tmpfs (init mounts /run; SQLite cannot lock WAL files on the 9p share).
SCRATCH=/run/optgate-vm
mkdir -p $SCRATCH
rm -rf "$LOGS" && mkdir -p "$LOGS"
failures=0
# HWTEST_SCOPE=devices (written by scripts/hwtest): device tests only, no optgated end to end.
HWTEST_SCOPE=all
[ -f $OUT/guest.env ] && . $OUT/guest.env
t0=$(cut -d' ' -f1 /proc/uptime)
say() { echo "[guest $(cut -d' ' -f1 /proc/uptime)s] $*"; }
pass() { say "PASS $*"; }
fail() { say "FAIL $*"; failures=$((failures + 1)); }
# wait_for SECONDS COMMAND...: polls every second (each poll forks; under TCG forks are expensive and
# would steal CPU from the daemon under test).
wait_for() {
  limit=$1; shift
  end=$(( $(cut -d. -f1 /proc/uptime) + limit ))
  while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do "$@" && return 0; sleep 1; done
  "$@"
}

# ---- gpio-sim: one bank of 16 lines
C=/sys/kernel/config/gpio-sim/gate
mkdir -p $C/bank0 && echo 16 > $C/bank0/num_lines && echo gate-sim > $C/bank0/label && echo 1 > $C/live
CHIP=$(cat $C/bank0/chip_name); DEV=$(cat $C/dev_name)
SIM=/sys/devices/platform/$DEV/$CHIP
say "gpio-sim $CHIP at $SIM; $(gpiodetect | tr '\n' ' ')"

# ---- fake colour + infrared camera pair: v4l2loopback /dev/video10 fed MJPEG face photos and /dev/video11
# fed, in step, the GREY infrared frame of the same scene (paired_feeder; SIGUSR1: the infrared shows a
# phone screen, SIGUSR2: a live face again), reachable through by-id symlinks
FRAMES=$(ls $OUT/frames/*.jpg)
start_feeder() { $PKG/.build/fakes/paired_feeder /dev/video10 /dev/video11 640 480 5 $OUT/infrared/live.grey \
                   $OUT/infrared/screen.grey $FRAMES 2>>$LOGS/feeder.log & FEEDER=$!; sleep 1; }
start_feeder
mkdir -p /dev/v4l/by-id && ln -sf ../../video10 /dev/v4l/by-id/usb-optgate-fake-camera-video-index0
ln -sf ../../video11 /dev/v4l/by-id/usb-optgate-fake-camera-video-index2
CAMERA=/dev/v4l/by-id/usb-optgate-fake-camera-video-index0
IRCAMERA=/dev/v4l/by-id/usb-optgate-fake-camera-video-index2

# ---- 1. The project's device tests (Swift Testing): the DeviceTests suite, WedgeReaderTests (uinput
# wedge reader and PIN pad into the real optgated; its relay on gpio-sim line 10) and WiegandGPIOTests
# (gpio-sim lines 12/13 driven by wiegand_sender, into the reader and into the real optgated; relay on 14).
# Other device tests join here; give them their device through an environment variable like the ones below.
say "== DeviceTests"
SENDER=$PKG/.build/fakes/wiegand_sender
# TMPDIR on tmpfs: the tests keep SQLite state dirs there.
device_tests() {  # LOG ARGS...: the test binary with the devices named
  log=$1; shift
  TMPDIR=$SCRATCH GATE_YUYV_DEVICE=/dev/video0 GATE_MJPEG_DEVICE=/dev/video10 GATE_IR_DEVICE=/dev/video11 GATE_GPIO_CHIP=$CHIP GATE_SIM_SYSFS=$SIM \
    GATE_WIEGAND_SENDER=$SENDER timeout 300 $BIN/optgatePackageTests.xctest --testing-library swift-testing "$@" > $log 2>&1
}
if device_tests $LOGS/device-tests.log --filter DeviceTests --skip WiegandGPIOTests; then pass "DeviceTests"; else fail "DeviceTests"; fi
grep -E "(✔|✘|➜) Test |Test run with" $LOGS/device-tests.log | sed 's/\x1b\[[0-9;]*m//g'
# On their own, after the others: fewer threads competing for the guest's two vCPUs, so fewer late IRQ
# threads and reader wake-ups (the kernel keeps only 16 edges per line for a reader that is late).
t=$(cut -d' ' -f1 /proc/uptime)
if device_tests $LOGS/wiegand-tests.log --filter WiegandGPIOTests; then pass "WiegandGPIOTests"; else fail "WiegandGPIOTests"; fi
grep -E "(✔|✘|➜) Test |Test run with" $LOGS/wiegand-tests.log | sed 's/\x1b\[[0-9;]*m//g'
say "WiegandGPIOTests: $(awk -v a=$t -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN{printf "%.1f", b-a}') s, wiegand_sender sent $(grep -c "sent again" $LOGS/wiegand-tests.log) frame(s) again after overrunning its budget"

# ---- 1b. CGPIOShim against gpio-sim with libgpiod 1.x (Debian 12) and 2.x (Debian 13's libgpiod3).
say "== CGPIOShim, libgpiod 1.x and 2.x"
# Both also read Wiegand frames from wiegand_sender on lines 12/13 (falling edges only, as the reader requests them).
if $PKG/.build/fakes/gpiod-shim-test $CHIP $SIM $SENDER > $LOGS/gpiod-shim-v1.log 2>&1; then pass "CGPIOShim on libgpiod 1.x"; else fail "CGPIOShim on libgpiod 1.x"; fi
if LD_LIBRARY_PATH=$PKG/.build/gpiod2/root/usr/lib/x86_64-linux-gnu $PKG/.build/gpiod2/gpiod-shim-test $CHIP $SIM $SENDER \
   > $LOGS/gpiod-shim-v2.log 2>&1; then pass "CGPIOShim on libgpiod 2.x"; else fail "CGPIOShim on libgpiod 2.x"; fi
cat $LOGS/gpiod-shim-v1.log $LOGS/gpiod-shim-v2.log

# ---- 2. A real unplug: vivid's Disconnect control makes DQBUF fail with ENODEV. vivid is reloaded after.
say "== unplug (vivid disconnect)"
( sleep 12; v4l2-ctl -d /dev/video0 -c disconnect=1 && echo "vivid: disconnect pressed" >> $LOGS/press.log ) &
PRESS=$!
if GATE_YUYV_DEVICE=/dev/video0 GATE_VIVID_DISCONNECT=1 timeout 120 \
   $BIN/optgatePackageTests.xctest --testing-library swift-testing --filter DeviceTests/unpluggingSurfacesENODEVFromDQBUF \
   > $LOGS/unplug-test.log 2>&1 && grep -q "unpluggingSurfacesENODEVFromDQBUF() passed" $LOGS/unplug-test.log; then
  pass "DQBUF reports ENODEV after an unplug (vivid disconnect)"
else
  fail "DQBUF reports ENODEV after an unplug"; sed 's/\x1b\[[0-9;]*m//g' $LOGS/unplug-test.log | tail -20
fi
wait $PRESS; cat $LOGS/press.log 2>/dev/null
rmmod vivid && insmod $VMW/mods/vivid.ko n_devs=1 node_types=0x1 && [ -e /dev/video0 ] && say "vivid reloaded"

if [ "$HWTEST_SCOPE" = devices ]; then
  say "guest tests (devices only) done: $failures failure(s)"
  kill $FEEDER 2>/dev/null
  [ $failures = 0 ]; exit
fi

# ---- 3. optgated end to end: colour + infrared camera pair (face.liveness "ir") + GPIO door + a uinput
# wedge card reader and PIN pad
say "== optgated end to end"
rm -rf $SCRATCH/state && cp -a $OUT/state $SCRATCH/state
# Fake USB readers behind by-id style links; each line written to fd 3 (wedge) or 4 (PIN pad) is typed.
WEDGE=/dev/input/by-id/usb-optgate-fake-wedge-event-kbd
PINPAD=/dev/input/by-id/usb-optgate-fake-pinpad-event-kbd
mkdir -p /dev/input/by-id && mkfifo $SCRATCH/wedge.in $SCRATCH/pinpad.in
$PKG/.build/fakes/uinput_reader $WEDGE < $SCRATCH/wedge.in > $LOGS/wedge.log 2>&1 &
$PKG/.build/fakes/uinput_reader $PINPAD < $SCRATCH/pinpad.in > $LOGS/pinpad.log 2>&1 &
exec 3> $SCRATCH/wedge.in 4> $SCRATCH/pinpad.in
wait_for 10 test -e $WEDGE -a -e $PINPAD || fail "uinput readers: $(cat $LOGS/wedge.log $LOGS/pinpad.log)"
cat > $SCRATCH/gate.json <<JSON
{"doors": [{"name": "main", "methods": ["face", "card", "pin"], "relay": {"pulseSeconds": 2},
            "gpio": {"chip": "$CHIP", "relayLine": 3, "contactLine": 4, "rexLine": 5, "rexActiveLow": false,
                     "fireLine": 6, "tamperLine": 7, "debounceMilliseconds": 20}}],
 "face": {"modelsDirectory": "$PKG/.build/models", "requiredFrames": 1, "windowFrames": 1, "windowSeconds": 30,
          "cooldownSeconds": 3, "source": {"camera": {"device": "$CAMERA", "width": 640, "height": 480, "fps": 15,
                                                      "stallSeconds": 3}},
          "liveness": "ir", "livenessFrames": 2,
          "infrared": {"camera": {"device": "$IRCAMERA", "width": 640, "height": 480, "fps": 15, "stallSeconds": 3}}},
 "readers": [{"door": "main", "kind": "wedge", "device": "$WEDGE", "format": "hex"},
             {"door": "main", "kind": "keypad", "device": "$PINPAD"}],
 "control": {"socketPath": "$SCRATCH/optgate.sock"}}
JSON
# The relay as gpio-sim sees it: every change, with uptime.
: > $LOGS/relay.log
( last=x; while :; do read v < $SIM/sim_gpio3/value; [ "$v" != "$last" ] && echo "$(cut -d' ' -f1 /proc/uptime) $v" >> $LOGS/relay.log; last=$v; sleep 0.5; done ) &
WATCH=$!
relay_ones() { grep -c ' 1$' $LOGS/relay.log; }
relay_is() { read v < $SIM/sim_gpio3/value; [ "$v" = "$1" ]; }
logged() { grep "$1" $LOGS/optgated.log | grep -q "$2"; }
decisions() { grep "decision.method=$1" $LOGS/optgated.log | grep -c "decision.result=$2"; }
# granted_by METHOD RELAY_PULSES_BEFORE GRANTS_BEFORE: one more grant by METHOD, and one more relay pulse.
granted_by() { wait_for 60 sh -c "[ \$(grep 'decision.method=$1' $LOGS/optgated.log | grep -c 'decision.result=granted') -gt $3 ]" &&
               wait_for 10 sh -c "[ \$(grep -c ' 1$' $LOGS/relay.log) -gt $2 ]"; }
pull() { echo "pull-$2" > $SIM/sim_gpio$1/pull; }

# A missing GPIO chip stops startup before READY, naming the line.
sed "s/\"$CHIP\"/\"gpiochip77\"/" $SCRATCH/gate.json > $SCRATCH/bad.json
$BIN/optgated --state-dir $SCRATCH/state --config $SCRATCH/bad.json > $LOGS/bad.log 2>&1
rc=$?
if [ $rc = 69 ] && grep -q "cannot request line 3 of gpiochip77" $LOGS/bad.log; then pass "missing chip: exit 69 before READY"; else fail "missing chip (rc $rc)"; cat $LOGS/bad.log; fi

$BIN/optgated --state-dir $SCRATCH/state --config $SCRATCH/gate.json --log-level debug > $LOGS/optgated.log 2>&1 &
DAEMON=$!
if wait_for 120 logged "camera on" "MJPG 640x480"; then pass "daemon opened the camera by its by-id symlink (MJPG 640x480)"; else fail "camera on"; fi
if wait_for 10 logged "camera on" "GREY 640x480"; then pass "daemon opened the infrared camera beside it (GREY 640x480)"; else fail "infrared camera on"; fi
wait_for 5 logged "door inputs watched" "exitRequest=5" && pass "door inputs watched" || fail "door inputs watched"
if wait_for 10 logged "reader device opened" "$WEDGE" && logged "reader device opened" "$PINPAD"; then
  pass "wedge reader and PIN pad opened by their by-id links"; else fail "readers opened"; fi

# (c) face granted end to end, a live pair (the infrared frame shows the lit face): the relay pulses.
if wait_for 300 logged "decision.method=face" "decision.result=granted"; then pass "face granted (live colour + infrared pair)"; else fail "face granted"; fi
face_status() { $BIN/optgate --socket $SCRATCH/optgate.sock status --json 2>&1 | tr -d ' \n' | grep -o '"face":{[^}]*}'; }
say "face status: $(face_status)"
if wait_for 10 sh -c "grep -q ' 1$' $LOGS/relay.log"; then pass "relay energised for the face grant (gpio-sim line 3)"; else fail "relay on face grant"; fi

# (c') the same colour frames with a "screen" infrared partner (dark: a phone emits no near-infrared image):
# refused as livenessFailed, no face grant; card and PIN keep opening the door meanwhile.
kill -USR1 $FEEDER
failed=$(decisions face denied)
if wait_for 300 sh -c "grep 'decision.reason=livenessFailed' $LOGS/optgated.log | grep -q 'decision.method=face'"; then
  pass "same colour frames, screen infrared: face refused, reason livenessFailed"; else fail "livenessFailed with a screen infrared frame"; fi
faces=$(decisions face granted)
wait_for 10 relay_is 0
before=$(relay_ones); grants=$(decisions card granted)
echo 04A1B2C3D4E5F6 >&3
if granted_by card $before $grants; then
  pass "card granted, relay pulsed, while the face is refused"; else fail "card while the face is refused"; fi
wait_for 10 relay_is 0
before=$(relay_ones); grants=$(decisions pin granted)
echo 246813 >&4
if granted_by pin $before $grants; then
  pass "PIN granted, relay pulsed, while the face is refused"; else fail "PIN while the face is refused"; fi
refusals=$(( $(decisions face denied) - failed ))
if [ "$(decisions face granted)" = "$faces" ] && [ $refusals -gt 0 ]; then pass "no face grant while the infrared shows a screen ($refusals face refusal(s))"
else fail "face while the infrared showed a screen: $(( $(decisions face granted) - faces )) grant(s), $refusals refusal(s)"; fi
kill -USR2 $FEEDER

# (e) camera unplugged: stop the fake camera, remove the driver.
kill $FEEDER; wait $FEEDER 2>/dev/null
# The recogniser notices once its current frame is analysed (tens of seconds per frame under TCG).
if wait_for 180 logged "camera lost" "camera.device"; then pass "daemon logged camera lost"; else fail "camera lost"; fi
removed=no
for i in $(seq 30); do rmmod v4l2loopback 2>/dev/null && { removed=yes; break; }; sleep 1; done
[ $removed = yes ] && [ ! -e /dev/video10 ] && pass "v4l2loopback removed (camera gone)" || fail "rmmod v4l2loopback"

# (d) inputs while the camera is gone: REX, fire, forced open.
wait_for 10 relay_is 0
before=$(relay_ones)
pull 5 up; sleep 0.3; pull 5 down
if wait_for 10 sh -c "[ \$(grep -c ' 1$' $LOGS/relay.log) -gt $before ]" && logged "decision.method=rex" "decision.result=granted"; then
  pass "REX pull released the door with the camera gone"; else fail "REX"; fi
wait_for 10 relay_is 0
pull 6 up
if wait_for 10 relay_is 1 && sleep 3 && relay_is 1; then pass "fire input holds the door released"; else fail "fire release"; fi
pull 6 down
if wait_for 10 relay_is 0 && logged "decision.reason=fireCleared" "door.id=main"; then pass "fire cleared relocks"; else fail "fire clear"; fi
pull 4 up
if wait_for 10 logged "decision.reason=forcedOpen" "door alarm"; then pass "contact opened without grant: forcedOpen alarm"; else fail "forced open"; fi
pull 4 down
pull 7 up
if wait_for 10 logged "decision.reason=tamper" "door alarm"; then pass "tamper input: alarm"; else fail "tamper"; fi
pull 7 down

# (d) card and PIN while the camera is gone: the resident's card typed by the wedge reader, then the
# PIN on the PIN pad; each grant pulses the relay.
wait_for 10 relay_is 0
before=$(relay_ones); grants=$(decisions card granted)
echo 04A1B2C3D4E5F6 >&3
if granted_by card $before $grants; then pass "card typed by the uinput wedge reader: granted, relay pulsed (camera gone)"; else fail "wedge card"; fi
wait_for 10 relay_is 0
before=$(relay_ones); grants=$(decisions pin granted)
echo 246813 >&4
if granted_by pin $before $grants; then pass "PIN typed on the uinput PIN pad: granted, relay pulsed (camera gone)"; else fail "PIN pad"; fi
if grep -q "04A1B2C3D4E5F6\|246813" $LOGS/optgated.log; then fail "a full card UID or PIN reached the log"; else pass "no UID or PIN in the log"; fi

# (e) camera back: driver loaded again, the fake camera restarted, face grants again.
insmod $VMW/v4l2loopback.ko devices=2 video_nr=10,11 card_label=loop,loop-ir exclusive_caps=0,0 && start_feeder
if wait_for 120 logged "camera back" "MJPG"; then pass "daemon logged camera back"; else fail "camera back"; fi
grants=$(grep "decision.method=face" $LOGS/optgated.log | grep -c "decision.result=granted")
if wait_for 300 sh -c "[ \$(grep 'decision.method=face' $LOGS/optgated.log | grep -c 'decision.result=granted') -gt $grants ]"; then
  pass "face granted again after the camera came back"; else fail "face after reconnect"; fi

# Shutdown: relay to its safe level, clean exit.
kill -TERM $DAEMON; wait $DAEMON; rc=$?
kill $FEEDER $WATCH 2>/dev/null
exec 3>&- 4>&-
if [ $rc = 0 ] && relay_is 0 && logged "relay released to its safe level" "main"; then pass "SIGTERM: relay at safe level, exit 0"; else fail "shutdown (rc $rc)"; fi
say "relay changes (uptime value): $(tr '\n' ' ' < $LOGS/relay.log)"
# No frame reaches disk: nothing written since the daemon's configuration (state, scratch, the share, /dev/shm)
# holds a JPEG or a raw 640x480 frame (GREY, YUYV or BGR sized).
on_disk=$(find $SCRATCH $OUT /dev/shm -newer $SCRATCH/gate.json -type f 2>/dev/null | while read -r f; do
  case $(stat -c %s "$f") in 307200|614400|921600) echo "$f"; continue ;; esac
  grep -qa JFIF "$f" && echo "$f"; done)
if [ -z "$on_disk" ]; then pass "no frame reached disk ($(find $SCRATCH $OUT /dev/shm -newer $SCRATCH/gate.json -type f 2>/dev/null | wc -l) files written, none holds a frame)"
else fail "frames on disk: $on_disk"; fi
grep -E "camera (on|lost|back)|access decision|door alarm|door input|face recognition on|reader device" $LOGS/optgated.log | sed 's/^[^ ]* //' | cut -c1-220

say "guest tests done in $(awk -v a=$t0 -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN{printf "%.1f", b-a}') s: $failures failure(s)"
[ $failures = 0 ]
