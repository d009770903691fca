/* The architecture's ceiling for `make bench`: a minimal libfcgi responder that answers every
 * request with a 302, with the same thread count as Waymark behind the same nginx settings.
 * Build: gcc -O2 -o c-responder c-responder.c -lfcgi -lpthread
 * Run:   c-responder SOCKET_PATH THREADS */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;

static void *serve(void *arg) {
    (void)arg;
    FCGX_Request *request = calloc(1, sizeof(FCGX_Request));
    FCGX_InitRequest(request, listen_fd, 0);
    static const char answer[] = "Status: 302 Found\r\nLocation: https://offer.example/lp\r\nCache-Control: no-store\r\n\r\n";
    while (FCGX_Accept_r(request) >= 0) {
        FCGX_PutStr(answer, sizeof(answer) - 1, request->out);
        FCGX_Finish_r(request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET THREADS\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]);
    FCGX_Init();
    unlink(argv[1]);
    listen_fd = FCGX_OpenSocket(argv[1], 4096);
    if (listen_fd < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    chmod(argv[1], 0666);
    pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, serve, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    return 0;
}
