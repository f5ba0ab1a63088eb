// CTurboJPEG: exposes the system libjpeg-turbo TurboJPEG API (Debian libturbojpeg0-dev, 2.1.x) to Swift.
// Why a shim: SwiftPM system libraries need one umbrella header; this one only includes <turbojpeg.h>.
#ifndef OPTGATE_CTURBOJPEG_SHIM_H
#define OPTGATE_CTURBOJPEG_SHIM_H

#include <turbojpeg.h>

#endif
