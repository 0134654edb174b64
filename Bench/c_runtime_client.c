/* The floor: a minimal Lambda runtime client in C over one raw keep-alive socket (echo handler).
 * Reads AWS_LAMBDA_RUNTIME_API, loops GET /next -> POST /invocation/{id}/response with the event as the body. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[4 << 20];
static size_t have;

/* Reads one response; copies its body to *body (length returned) and the request id header to id. */
static long read_response(int fd, char *id, size_t idcap, char *body, size_t bodycap) {
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t head = end - buf + 4, len = 0;
            char *cl = memmem(buf, head, "Content-Length:", 15);
            if (cl) len = strtoul(cl + 15, NULL, 10);
            if (have >= head + len) {
                char *h = memmem(buf, head, "Lambda-Runtime-Aws-Request-Id: ", 31);
                if (h && id) {
                    char *e = memchr(h + 31, '\r', head);
                    size_t n = e - (h + 31) < (long)idcap - 1 ? (size_t)(e - (h + 31)) : idcap - 1;
                    memcpy(id, h + 31, n);
                    id[n] = 0;
                }
                if (body) memcpy(body, buf + head, len < bodycap ? len : bodycap);
                memmove(buf, buf + head + len, have - head - len);
                have -= head + len;
                return (long)len;
            }
        }
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) return -1;
        have += n;
    }
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) return 1;
    char host[64];
    const char *colon = strrchr(api, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - api), api);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    inet_pton(AF_INET, host, &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) return 1;
    static char id[128], event[4 << 20], req[(4 << 20) + 512];
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: api\r\n\r\n";
    for (;;) {
        if (write(fd, next, sizeof next - 1) < 0) return 1;
        long n = read_response(fd, id, sizeof id, event, sizeof event);
        if (n < 0) return 1;
        int h = snprintf(req, sizeof req, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: api\r\n"
                         "Content-Length: %ld\r\n\r\n", id, n);
        memcpy(req + h, event, n);
        if (write(fd, req, h + n) < 0) return 1;
        if (read_response(fd, NULL, 0, NULL, 0) < 0) return 1;
    }
}
