// zoomqctl: see `zoomqctl --help` and docs/cli.md.
#include <iostream>

#include "zoomqctl.h"

int main(int argc, char** argv) {
  return zoomq::ctl::Run(argc, argv, std::cin, std::cout, std::cerr);
}
