// CGPIOD: the system libgpiod (Debian 12: 1.6.3, libgpiod-dev) for the C shim CGPIOShim.
// Why a shim: SwiftPM system libraries need one umbrella header; this one only includes <gpiod.h>.
// Swift code never calls libgpiod directly: the 1.x and 2.x APIs differ, CGPIOShim bridges both.
#ifndef OPTGATE_CGPIOD_SHIM_H
#define OPTGATE_CGPIOD_SHIM_H

#include <gpiod.h>

#endif
