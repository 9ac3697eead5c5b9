// The files of child processes: fresh temp directories for their data and logs, and the tail
// of a log for error messages.
//
// Thread-safety: any thread.
#pragma once

#include <cstddef>
#include <string>

namespace zoomq::proc {

// A fresh directory "<prefix>-XXXXXX" under $TMPDIR or /tmp ("" on failure).
std::string MakeTempDir(const std::string& prefix);

// Removes `dir` and everything in it, unless $ZOOMQ_IT_KEEP is set: then it says on stderr
// that it keeps it. Nothing for "".
void RemoveTempDir(const std::string& dir);

// The last `max_bytes` of a file, from the start of a line ("...\n" first when cut);
// "(no log at <path>)" when it cannot be read.
std::string ReadFileTail(const std::string& path, size_t max_bytes);

}  // namespace zoomq::proc
