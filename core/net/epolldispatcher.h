#pragma once

class QAbstractEventDispatcher;
class QThread;

namespace route {

// An event dispatcher for the network threads built on epoll, or nullptr
// where there is none (the thread then keeps Qt's default dispatcher).
//
// Why: Qt's default on Linux is the GLib one. GLib wakes its own thread
// through an eventfd every time a socket notifier is switched on or off,
// which QAbstractSocket does for every write; and it polls every socket of
// the thread on every turn. With epoll a turn costs what is ready, and
// notifier changes within one turn cost nothing until the next wait.
QAbstractEventDispatcher *createNetworkEventDispatcher();

// Puts THREAD (not started yet, without a dispatcher) on the network
// dispatcher where there is one.
void useNetworkEventDispatcher(QThread *thread);

} // namespace route
