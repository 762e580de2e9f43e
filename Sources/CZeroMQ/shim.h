// The one C header the ZeroMQ wrapper sees: libzmq's public API, nothing more.
#include <zmq.h>
