// Wall-clock stamps that match the brokers' log lines, for reports of when a fault or an
// answer happened.
//
// Thread-safety: any thread.
#pragma once

#include <string>

namespace zoomq::proc {

// Local wall-clock time "HH:MM:SS.mmm" (the brokers' log timestamps use the same clock).
std::string WallClockNow();

}  // namespace zoomq::proc
