/*
 * bare.c - a bare civetweb server answering every request with a small
 * JSON body: the ceiling the gateway is compared against in bench.sh.
 * usage: bare 127.0.0.1:PORT [threads]
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
	(void) sig;
	stop_flag = 1;
}

static int
handler(struct mg_connection *conn, void *cbdata)
{
	static const char body[] = "{\"stream\":\"s\",\"version\":1,\"position\":1}";
	char buf[4096];

	(void) cbdata;
	while (mg_read(conn, buf, sizeof(buf)) > 0)
		;
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			  sizeof(body) - 1, body);
	return 200;
}

int
main(int argc, char **argv)
{
	const char *opts[] = {"listening_ports", argc > 1 ? argv[1] : "127.0.0.1:18090",
						  "num_threads", argc > 2 ? argv[2] : "32",
						  "enable_keep_alive", "yes", "tcp_nodelay", "1", NULL};
	struct mg_callbacks cb;
	struct mg_context *ctx;

	memset(&cb, 0, sizeof(cb));
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	ctx = mg_start(&cb, NULL, opts);
	if (ctx == NULL)
		return 1;
	mg_set_request_handler(ctx, "/", handler, NULL);
	while (!stop_flag)
		usleep(100000);
	mg_stop(ctx);
	return 0;
}
