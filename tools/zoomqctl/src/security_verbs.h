// zoomqctl's security verbs (docs/security.md): whoami, user, token, acl. The constructor adds
// them (and their flags) to the CLI; after parsing, Run() runs the one that was given.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

#include "verbs.h"

namespace zoomq::ctl {

struct SecurityArgs {
  std::string name, user, id, description;
  std::string principal, operation, topic, group;
  bool cluster = false, prefix = false;
  int64_t rule_id = 0;
};

class SecurityVerbs {
 public:
  explicit SecurityVerbs(CLI::App& app);
  SecurityVerbs(const SecurityVerbs&) = delete;  // the CLI holds pointers into it
  SecurityVerbs& operator=(const SecurityVerbs&) = delete;
  // The exit code of the security verb given on the command line; nullopt if none was.
  std::optional<int> Run(const Globals& g, Io& io) const;

 private:
  SecurityArgs sa_;
  CLI::App* whoami_ = nullptr;
  CLI::App *u_create_ = nullptr, *u_list_ = nullptr, *u_delete_ = nullptr;
  CLI::App *k_create_ = nullptr, *k_list_ = nullptr, *k_revoke_ = nullptr, *k_generate_ = nullptr;
  CLI::App *a_add_ = nullptr, *a_list_ = nullptr, *a_delete_ = nullptr;
};

}  // namespace zoomq::ctl
