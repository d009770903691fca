#ifndef WAYMARK_CFASTCGI_SHIM_H
#define WAYMARK_CFASTCGI_SHIM_H
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcgiapp.h>

/// A heap-allocated request: libfcgi keeps a pointer to it, so its address must not move.
static inline FCGX_Request *_Nullable wm_fcgx_request_new(int sock) {
    FCGX_Request *r = (FCGX_Request *)calloc(1, sizeof(FCGX_Request));
    if (r && FCGX_InitRequest(r, sock, 0) != 0) { free(r); return NULL; }
    return r;
}
/// A request on a connection accepted by the caller. No listening socket (-1): when the
/// connection ends, FCGX_Accept_r fails at once instead of accepting another one itself; kept
/// open by the FCGX_Finish_r that FCGX_Accept_r starts with.
static inline FCGX_Request *_Nullable wm_fcgx_request_adopt(int fd) {
    FCGX_Request *r = wm_fcgx_request_new(-1);
    if (r) { r->ipcFd = fd; r->keepConnection = 1; }
    return r;
}
/// Closes the request's connection, frees what libfcgi holds for it, then the request.
static inline void wm_fcgx_request_close(FCGX_Request *_Nonnull r) {
    FCGX_Free(r, 1);
    free(r);
}
static inline FCGX_Stream *_Nullable wm_fcgx_in(FCGX_Request *_Nonnull r) { return r->in; }
static inline FCGX_Stream *_Nullable wm_fcgx_out(FCGX_Request *_Nonnull r) { return r->out; }
static inline char *_Nullable *_Nullable wm_fcgx_envp(FCGX_Request *_Nonnull r) { return r->envp; }
static inline int wm_fcgx_ipc_fd(FCGX_Request *_Nonnull r) { return r->ipcFd; }

/// An eventfd for waking threads (close-on-exec).
static inline int wm_eventfd(void) { return eventfd(0, EFD_CLOEXEC); }
/// accept4 with close-on-exec (a child never inherits nginx's connections); on TCP without
/// Nagle's delay, as libfcgi's own accept does (a small answer must not wait for an ACK).
static inline int wm_accept(int listen_fd, int tcp) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0 && tcp) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    return fd;
}

/// Watches `fd` for the next request on it, for one thread only (EPOLLONESHOT: it is off
/// again once reported, until watched again). `add`: first time; else re-armed.
static inline int wm_epoll_watch(int ep, int fd, void *_Nullable data, int add) {
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.ptr = data;
    return epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}
/// A descriptor reported readable to every waiting thread until it is read (the wake-up).
static inline int wm_epoll_watch_always(int ep, int fd) {
    struct epoll_event ev;
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}
/// Waits for one ready descriptor: its data, NULL for the wake-up (or an error, `*failed` set).
static inline void *_Nullable wm_epoll_next(int ep, int *_Nonnull failed) {
    struct epoll_event ev;
    int n;
    do { n = epoll_wait(ep, &ev, 1, -1); } while (n < 0 && errno == EINTR);
    *failed = n < 0;
    return n == 1 ? ev.data.ptr : NULL;
}
#endif
