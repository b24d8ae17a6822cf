// SPDX-License-Identifier: Apache-2.0

/* The Go library's host: loading it after rsyslogd forked, and what a Go
 * runtime inside rsyslogd needs (SA_ONSTACK on every signal handler, fds 1
 * and 2 kept open, SIGTTIN turned into the stop flag of a worker, Go's log
 * lines into rsyslog's log). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "shim.h"

struct go_library go;

/* Set on a worker thread when rsyslog sends it SIGTTIN, which rsyslog does
 * only to stop queue workers (runtime/wtp.c wtpShutdownAll, wti.c). Thread
 * local, so other threads' retries go on; initial-exec, so the signal
 * handler never has to allocate TLS in this dlopen'ed module. */
__thread volatile int worker_stopping __attribute__((tls_model("initial-exec")));
static struct sigaction rsyslog_sigttin;

static void on_sigttin(int sig, siginfo_t *info, void *uctx)
{
	worker_stopping = 1;
	if (rsyslog_sigttin.sa_flags & SA_SIGINFO) {
		if (rsyslog_sigttin.sa_sigaction != NULL)
			rsyslog_sigttin.sa_sigaction(sig, info, uctx);
	} else if (rsyslog_sigttin.sa_handler != SIG_IGN && rsyslog_sigttin.sa_handler != SIG_DFL) {
		rsyslog_sigttin.sa_handler(sig);
	}
}

/* Chain our SIGTTIN handler in front of rsyslog's (installed at startup,
 * before any activation). */
static void watch_sigttin(void)
{
	struct sigaction sa;
	if (sigaction(SIGTTIN, NULL, &rsyslog_sigttin) != 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigttin;
	sa.sa_mask = rsyslog_sigttin.sa_mask;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | (rsyslog_sigttin.sa_flags & SA_RESTART);
	sigaction(SIGTTIN, &sa, NULL);
}

static void host_log(int severity, const char *msg)
{
	LogMsg(0, severity <= LOG_ERR ? RS_RET_ERR : NO_ERRCODE, severity, "%s", msg);
}
static const omsg_host_t host = { OMSG_PLUGIN_ABI, host_log };

/* Go's runtime writes fatal errors to fd 2. rsyslogd closes fds 1 and 2
 * after activation when it daemonizes, and a socket opened later may take
 * their number; keep them pointing at /dev/null instead. */
void guard_stdio(void)
{
	for (int fd = 1; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int nfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (nfd >= 0 && nfd != fd) {
				dup2(nfd, fd);
				close(nfd);
			}
		}
	}
}

/* Go's signal handling needs SA_ONSTACK on every handler in the process
 * (os/signal, "Go programs that use cgo"); rsyslog installs its HUP, TERM,
 * CHLD, TTIN... handlers without it, all before activation. */
static void add_sa_onstack(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0)
			continue;
		if ((sa.sa_flags & SA_SIGINFO) == 0 &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		if (sa.sa_flags & SA_ONSTACK)
			continue;
		sa.sa_flags |= SA_ONSTACK;
		sigaction(sig, &sa, NULL);
	}
}

/* go_library_path: the library parameter, else libomsplunkgo.so next to
 * this module file. */
static int go_library_path(const modConfData_t *mc, char *buf, size_t len)
{
	if (mc != NULL && mc->library != NULL) {
		snprintf(buf, len, "%s", mc->library);
		return 1;
	}
	Dl_info info;
	if (dladdr((void *)go_library_path, &info) == 0 || info.dli_fname == NULL)
		return 0;
	const char *slash = strrchr(info.dli_fname, '/');
	int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
	snprintf(buf, len, "%.*s/%s", dirlen, slash ? info.dli_fname : ".", GO_LIBRARY);
	return 1;
}

static int start_go(const modConfData_t *mc, const char *path, char *err, size_t errlen);

int load_go(const modConfData_t *mc)
{
	char path[PATH_MAX];
	char err[512] = "";

	if (go.loaded)
		return 1;
	if (!go_library_path(mc, path, sizeof(path))) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": cannot tell where " GO_LIBRARY " is; set module(library=...)");
		return 0;
	}
	/* rsyslog wakes its main thread with signals sent to the process (HUP,
	 * TERM, INT, CHLD, and TTOU for every internal message logged from a
	 * thread of its own or ours): the kernel hands such a signal to any
	 * thread that does not block it, and one caught on a Go thread does
	 * not end the main thread's pselect, so the HUP, the stop or the log
	 * line would wait for rsyslog's janitor (minutes). Go's threads take
	 * the signal mask of the thread that starts the runtime, so they are
	 * started with these blocked; this thread's mask is restored after. */
	sigset_t block, saved;
	sigemptyset(&block);
	int process_signals[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGTTOU, SIGUSR1, SIGUSR2, SIGALRM };
	for (size_t i = 0; i < sizeof(process_signals) / sizeof(process_signals[0]); i++)
		sigaddset(&block, process_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	int ok = start_go(mc, path, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ok)
		go.loaded = 1;
	return ok;
}

/* start_go loads the Go library at path and initializes it. */
static int start_go(const modConfData_t *mc, const char *path, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": cannot load the Go library: %s "
			 "(install it next to omsplunkgo.so or set module(library=...))", dlerror());
		return 0;
	}
	watch_sigttin();
	add_sa_onstack();
	omsg_init_fn init = (omsg_init_fn)dlsym(h, "omsg_init");
	go.action_new = (omsg_action_new_fn)dlsym(h, "omsg_action_new");
	go.commit = (omsg_action_commit_fn)dlsym(h, "omsg_action_commit");
	go.probe = (omsg_action_probe_fn)dlsym(h, "omsg_action_probe");
	go.action_free = (omsg_action_free_fn)dlsym(h, "omsg_action_free");
	go.worker_new = (omsg_worker_new_fn)dlsym(h, "omsg_worker_new");
	go.worker_free = (omsg_worker_free_fn)dlsym(h, "omsg_worker_free");
	go.set_token = (omsg_action_set_token_fn)dlsym(h, "omsg_action_set_token");
	go.hup = (omsg_action_hup_fn)dlsym(h, "omsg_action_hup");
	if (!init || !go.action_new || !go.commit || !go.probe || !go.action_free || !go.worker_new ||
	    !go.worker_free || !go.set_token || !go.hup) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": %s is not an omsplunkgo Go library (missing exports)", path);
		return 0;
	}
	if (init(&host, mc ? mc->gomaxprocs : 0, mc ? mc->gomemlimit : 0, mc ? mc->pprof : NULL, err,
		 (int)errlen) != OMSG_OK) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": %s: %s", path, err);
		return 0;
	}
	return 1;
}
