/* Loopback stand-in for the Lambda Runtime API, for benchmarking runtime clients.
 *
 *   runtime_standin INVOCATIONS SPAWNS [EVENT_BYTES] -- CLIENT [ARGS...]
 *
 * The event is a JSON object {"action":"echo","data":"xxx…"} of EVENT_BYTES bytes (default: a 29-byte one); every
 * response must echo it byte for byte (same length, same bytes), or the stand-in fails.
 * Spawns CLIENT with AWS_LAMBDA_RUNTIME_API pointing here and serves INVOCATIONS next+response round trips on
 * one keep-alive connection, then measures SPAWNS fresh starts (spawn -> first GET /next). Prints one JSON object:
 * per-invocation interval between consecutive GET /next arrivals (median, p99, after 200 warm-up), the client's
 * CPU time per invocation (wait4 rusage), its resident set at the end (VmRSS), and spawn-to-first-/next (median).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static char buf[4 << 20];
static size_t have;
static const char *last_body;
static size_t last_body_len;

/* Reads one request (head + Content-Length body) from fd; returns 0 on EOF. The body is compared (memcmp) with
 * `expect` when given; a mismatch returns -1. */
static int read_request_expecting(int fd, char *first_line, size_t cap, const char *expect, size_t expect_len) {
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t head = end - buf + 4, body = 0;
            char *cl = memmem(buf, head, "Content-Length:", 15);
            if (!cl) cl = memmem(buf, head, "content-length:", 15);
            if (cl) body = strtoul(cl + 15, NULL, 10);
            if (have >= head + body) {
                char *eol = memchr(buf, '\r', head);
                size_t n = eol - buf < (long)cap - 1 ? (size_t)(eol - buf) : cap - 1;
                memcpy(first_line, buf, n);
                first_line[n] = 0;
                last_body = buf + head;
                last_body_len = body;
                if (expect && (body != expect_len || memcmp(buf + head, expect, body))) return -1;
                memmove(buf, buf + head + body, have - head - body);
                have -= head + body;
                return 1;
            }
        }
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) return 0;
        have += n;
    }
}

static int read_request(int fd, char *first_line, size_t cap) { return read_request_expecting(fd, first_line, cap, NULL, 0); }

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= w;
    }
}

static pid_t spawn(char **argv, int port) {
    char env[64];
    snprintf(env, sizeof env, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("AWS_LAMBDA_RUNTIME_API", env, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int sized = argc > 4 && strcmp(argv[3], "--") != 0;
    if (argc < 5 + sized || strcmp(argv[3 + sized], "--") != 0) {
        fprintf(stderr, "usage: %s INVOCATIONS SPAWNS [EVENT_BYTES] -- CLIENT [ARGS...]\n", argv[0]);
        return 2;
    }
    int invocations = atoi(argv[1]), spawns = atoi(argv[2]);
    char **client = argv + 4 + sized;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 8)) { perror("listen"); return 1; }
    getsockname(lfd, (struct sockaddr *)&addr, &len);
    int port = ntohs(addr.sin_port);
    char line[256], head[640];
    const char *event = "{\"action\":\"echo\",\"value\":42}";
    size_t event_len = strlen(event);
    if (sized) {
        static const char open[] = "{\"action\":\"echo\",\"data\":\"", close[] = "\"}";
        size_t want = strtoul(argv[3], NULL, 10), fixed = sizeof open - 1 + sizeof close - 1;
        if (want < fixed || want > sizeof buf / 2) { fprintf(stderr, "standin: EVENT_BYTES out of range\n"); return 2; }
        char *e = malloc(want);
        memcpy(e, open, sizeof open - 1);
        for (size_t k = sizeof open - 1; k < want - (sizeof close - 1); k++) e[k] = "abcdefghijklmnopqrstuvwxyz012345"[k % 32];
        memcpy(e + want - (sizeof close - 1), close, sizeof close - 1);
        event = e;
        event_len = want;
    }
    double *arrivals = calloc(invocations + 1, sizeof(double));

    pid_t pid = spawn(client, port);
    int fd = accept(lfd, NULL, NULL);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long rss_kb = -1;
    for (int i = 0; i <= invocations; i++) {
        if (!read_request(fd, line, sizeof line) || strncmp(line, "GET /2018-06-01/runtime/invocation/next", 39)) {
            fprintf(stderr, "standin: expected GET /next at %d, got '%s'\n", i, line);
            return 1;
        }
        arrivals[i] = now_us();
        if (i == invocations) break;
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-%d\r\n"
                         "Lambda-Runtime-Deadline-Ms: 4102444800000\r\nLambda-Runtime-Invoked-Function-Arn: "
                         "arn:aws:lambda:us-east-1:123456789012:function:bench\r\nLambda-Runtime-Trace-Id: "
                         "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\nContent-Length: %zu\r\n\r\n",
                         i, event_len);
        write_all(fd, head, n);
        write_all(fd, event, event_len);
        int got = read_request_expecting(fd, line, sizeof line, sized ? event : NULL, event_len);
        if (got <= 0 || !strstr(line, "/response")) {
            fprintf(stderr, "standin: expected POST .../response echoing the event at %d, got '%s' (%zu bytes: %.120s)\n", i,
                    line, last_body_len, last_body ? last_body : "");
            return 1;
        }
        static const char ack[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
        write_all(fd, ack, sizeof ack - 1);
    }
    char path[64], status[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(status, 1, sizeof status - 1, f);
        status[n] = 0;
        char *p = strstr(status, "VmRSS:");
        if (p) rss_kb = strtol(p + 6, NULL, 10);
        fclose(f);
    }
    kill(pid, SIGTERM); /* default action ends the client; profilers such as valgrind still write their output */
    struct rusage ru;
    int st;
    wait4(pid, &st, 0, &ru);
    close(fd);
    double cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;

    int warm = invocations > 400 ? 200 : 0, count = invocations - warm;
    double *d = calloc(count, sizeof(double));
    for (int i = 0; i < count; i++) d[i] = arrivals[warm + i + 1] - arrivals[warm + i];
    qsort(d, count, sizeof(double), cmp);

    double *s = calloc(spawns > 0 ? spawns : 1, sizeof(double));
    for (int k = 0; k < spawns; k++) {
        have = 0;
        double t0 = now_us();
        pid_t p = spawn(client, port);
        int c = accept(lfd, NULL, NULL);
        read_request(c, line, sizeof line);
        s[k] = now_us() - t0;
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        close(c);
    }
    qsort(s, spawns > 0 ? spawns : 1, sizeof(double), cmp);
    printf("{\"invocations\":%d,\"median_us\":%.2f,\"p99_us\":%.2f,\"cpu_us_per_invocation\":%.2f,\"rss_kb\":%ld,"
           "\"spawn_to_first_next_ms\":%.3f}\n",
           invocations, d[count / 2], d[(int)(count * 0.99)], cpu_us / invocations, rss_kb, spawns ? s[spawns / 2] / 1e3 : -1.0);
    return 0;
}
