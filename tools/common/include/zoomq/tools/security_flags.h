// The client security flags of zoomqctl and the demo's programs (docs/security.md): a bearer
// token, the CA file that https:// brokers' certificates must chain to, and a client
// certificate for brokers that ask for one, filled into the SDK's TransportSecurity. Header-
// only, like cli.h; its users link the SDK.
#pragma once

#include <CLI/CLI.hpp>

#include "zoomq/client/transport.h"

namespace zoomq::tools {

// --token (env ZOOMQ_TOKEN), --cacert (ZOOMQ_CACERT), --client-cert and --client-key
// (ZOOMQ_CLIENT_CERT, ZOOMQ_CLIENT_KEY; not --cert/--key: `produce --key` is the message key).
inline void AddSecurityFlags(CLI::App& app, TransportSecurity* security) {
  const char* group = "Security (docs/security.md)";
  app.add_option("--token", security->token,
                 "Bearer token sent with every request (better in env ZOOMQ_TOKEN: a flag "
                 "shows in ps)")
      ->envname("ZOOMQ_TOKEN")
      ->group(group);
  app.add_option("--cacert", security->ca_file,
                 "PEM CA certificates that https:// brokers must chain to (default: the "
                 "system's CAs)")
      ->envname("ZOOMQ_CACERT")
      ->check(CLI::ExistingFile)
      ->group(group);
  CLI::Option* cert = app.add_option("--client-cert", security->cert_file,
                                     "PEM client certificate, for brokers that ask for one")
                          ->envname("ZOOMQ_CLIENT_CERT")
                          ->check(CLI::ExistingFile)
                          ->group(group);
  CLI::Option* key = app.add_option("--client-key", security->key_file,
                                    "PEM private key of --client-cert (unencrypted)")
                         ->envname("ZOOMQ_CLIENT_KEY")
                         ->check(CLI::ExistingFile)
                         ->group(group);
  cert->needs(key);
  key->needs(cert);
}

}  // namespace zoomq::tools
