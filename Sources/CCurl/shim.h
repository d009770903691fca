#ifndef WAYMARK_CCURL_SHIM_H
#define WAYMARK_CCURL_SHIM_H
#include <curl/curl.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

// curl_easy_setopt and curl_easy_getinfo are variadic and not imported into Swift:
// typed wrappers, one per argument kind.
typedef size_t (*wm_curl_data_callback)(char *_Nonnull, size_t, size_t, void *_Nullable);

static inline CURLcode wm_curl_setopt_long(CURL *_Nonnull h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode wm_curl_setopt_string(CURL *_Nonnull h, CURLoption o, const char *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode wm_curl_setopt_pointer(CURL *_Nonnull h, CURLoption o, void *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode wm_curl_setopt_slist(CURL *_Nonnull h, CURLoption o, struct curl_slist *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode wm_curl_setopt_callback(CURL *_Nonnull h, CURLoption o, wm_curl_data_callback _Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode wm_curl_getinfo_long(CURL *_Nonnull h, CURLINFO i, long *_Nonnull v) { return curl_easy_getinfo(h, i, v); }

// The outbound policy's last check: every socket libcurl opens is for an address the policy
// allows (`allowed` gets 16 bytes, IPv4 as IPv4-mapped IPv6, and answers 1 to allow).
struct wm_open_guard {
    int (*_Nullable allowed)(const unsigned char *_Nonnull address16, void *_Nullable context);
    void *_Nullable context;
    int refused;
};

static curl_socket_t wm_curl_open_guarded(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    struct wm_open_guard *g = (struct wm_open_guard *)clientp;
    unsigned char bytes[16];
    memset(bytes, 0, sizeof bytes);
    (void)purpose;
    if (address->family == AF_INET) {
        bytes[10] = 0xff; bytes[11] = 0xff;
        memcpy(bytes + 12, &((const struct sockaddr_in *)&address->addr)->sin_addr, 4);
    } else if (address->family == AF_INET6) {
        memcpy(bytes, &((const struct sockaddr_in6 *)&address->addr)->sin6_addr, 16);
    } else {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    if (g->allowed == NULL || g->allowed(bytes, g->context) != 1) {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static inline CURLcode wm_curl_guard_sockets(CURL *_Nonnull h, struct wm_open_guard *_Nonnull g) {
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, wm_curl_open_guarded);
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)g);
}
#endif
