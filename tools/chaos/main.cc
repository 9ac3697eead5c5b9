// zoomq-chaos: see `zoomq-chaos --help` and docs/chaos.md.
#include "chaos.h"

int main(int argc, char** argv) { return zoomq::chaos::Main(argc, argv); }
