// Who a client proved to be with its TLS certificate (mutual TLS, docs/security.md): the
// subject's common name of the certificate it presented, which the handshake already verified
// against --tls-client-ca. The HTTP layer maps it to a principal.
#pragma once

#include <optional>
#include <string>

namespace httplib {
struct Request;
}

namespace zoomq::broker::http {

// The common name (CN) of the subject of the client certificate `req` came with, as UTF-8.
// nullopt on a plain listener, without a client certificate (a listener without
// --tls-client-ca asks for none), when the certificate did not verify, and when its subject
// has no CN, several CNs, or one with a NUL or another control character: a name that could
// be read two ways must not become a principal.
std::optional<std::string> ClientCertificateSubject(const httplib::Request& req);

}  // namespace zoomq::broker::http
