#ifndef WAYMARK_CFASTCGI_SHIM_H
#define WAYMARK_CFASTCGI_SHIM_H
#include <stdlib.h>
#include <fcgiapp.h>

/// A heap-allocated request: libfcgi keeps a pointer to it, so its address must not move.
static inline FCGX_Request *_Nullable wm_fcgx_request_new(int sock) {
    FCGX_Request *r = (FCGX_Request *)calloc(1, sizeof(FCGX_Request));
    if (r && FCGX_InitRequest(r, sock, 0) != 0) { free(r); return NULL; }
    return r;
}
static inline void wm_fcgx_request_free(FCGX_Request *_Nullable r) { free(r); }
static inline FCGX_Stream *_Nullable wm_fcgx_in(FCGX_Request *_Nonnull r) { return r->in; }
static inline FCGX_Stream *_Nullable wm_fcgx_out(FCGX_Request *_Nonnull r) { return r->out; }
static inline char *_Nullable *_Nullable wm_fcgx_envp(FCGX_Request *_Nonnull r) { return r->envp; }
static inline int wm_fcgx_ipc_fd(FCGX_Request *_Nonnull r) { return r->ipcFd; }
#endif
