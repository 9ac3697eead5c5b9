// The zoomq client SDK: #include "zoomq/client.h", link zoomq::client (CMake) or
// `pkg-config --libs zoomq-client`.
#pragma once

#include "zoomq/client/admin.h"
#include "zoomq/client/consumer.h"
#include "zoomq/client/options.h"
#include "zoomq/client/producer.h"
#include "zoomq/client/transport.h"
#include "zoomq/client/types.h"
