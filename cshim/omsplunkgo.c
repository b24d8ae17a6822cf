// SPDX-License-Identifier: Apache-2.0

/* omsplunkgo: the module rsyslog loads. Pure C: it implements rsyslog's
 * output module ABI, validates the action's parameters (so `rsyslogd -N1`
 * reports config errors without starting Go), and after rsyslogd has
 * forked loads the Go library that does the HEC work (../plugin).
 *
 * Why the split: a Go shared library starts its runtime threads when it is
 * loaded, and only the forking thread survives a fork. rsyslogd loads
 * modules before it daemonizes, so Go must not be loaded until
 * activateCnf, the first hook after the fork.
 *
 * Entry points below are in the order rsyslog calls them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "rsyslog_abi.h"
#include "omsplunkgo_plugin.h"
#include "stats.h"

#define MODULE_NAME "omsplunkgo"
#define GO_LIBRARY "libomsplunkgo.so"

/* Templates the module adds to rsyslog's config. A leading space keeps
 * users from redefining them. The meta template is parsed in Go. */
#define TPL_META " OMSPLUNKGO_Meta"
#define TPL_EVENT " OMSPLUNKGO_Event"
#define TPL_RAW " OMSPLUNKGO_Raw"
static uchar tpl_meta_text[] =
	"\"%timereported:::date-unixtimestamp%.%timereported:::date-subseconds% %hostname%\"";
static uchar tpl_event_text[] = "\"%syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\"";
/* endpoint="raw": Splunk parses time and host out of each line itself, as
 * from a syslog file, so the line carries them. */
static uchar tpl_raw_text[] =
	"\"%timereported:::date-rfc3339% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\"";

/* Longest token.file accepted: a HEC token is a 36-character GUID. */
#define TOKEN_FILE_MAX 4096

/* ---- parameters ------------------------------------------------------ */

static struct cnfparamdescr modpdescr[] = {
	{ "library", eCmdHdlrString, 0 },     /* path of libomsplunkgo.so */
	{ "gomaxprocs", eCmdHdlrNonNegInt, 0 },/* 0: Go's default (all CPUs) */
	{ "gomemlimit", eCmdHdlrSize, 0 },    /* soft limit of the Go heap */
	{ "debug.pprof", eCmdHdlrString, 0 }, /* host:port for Go's pprof HTTP endpoints */
};
static struct cnfparamblk modpblk = { CNFPARAMBLK_VERSION, sizeof(modpdescr) / sizeof(modpdescr[0]), modpdescr };

/* Action parameters. Numbers carry their range. Most are handed to Go by
 * name, as text; the template parameters become template slots (see
 * omsplunkgo_plugin.h), token.file becomes token, and name (rsyslog's own
 * action name, read here too) names the impstats object. */
static struct actparam {
	struct cnfparamdescr d;
	long long min, max; /* for numbers; min > max means "no range" */
} actparams[] = {
	{ { "server", eCmdHdlrArray, CNFPARAM_REQUIRED }, 1, 0 },
	{ { "token", eCmdHdlrString, 0 }, 1, 0 },
	{ { "token.file", eCmdHdlrString, 0 }, 1, 0 },
	{ { "endpoint", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "index", eCmdHdlrString, 0 }, 1, 0 },
	{ { "source", eCmdHdlrString, 0 }, 1, 0 },
	{ { "sourcetype", eCmdHdlrString, 0 }, 1, 0 },
	{ { "host", eCmdHdlrString, 0 }, 1, 0 },
	{ { "template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "index.template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "source.template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "sourcetype.template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "host.template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "fields.template", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "template.json", eCmdHdlrBinary, 0 }, 1, 0 },
	{ { "batch.maxevents", eCmdHdlrInt, 0 }, 1, 1000000 },
	{ { "batch.maxbytes", eCmdHdlrSize, 0 }, 1024, 1073741824 },
	{ { "batch.maxdelay", eCmdHdlrInt, 0 }, 0, 60000 },
	{ { "compress", eCmdHdlrBinary, 0 }, 1, 0 },
	{ { "compress.level", eCmdHdlrInt, 0 }, 1, 9 },
	{ { "timeout", eCmdHdlrInt, 0 }, 100, 600000 },
	{ { "connections", eCmdHdlrInt, 0 }, 1, 256 },
	{ { "retry.maxtime", eCmdHdlrInt, 0 }, 0, 3600000 },
	{ { "tls.verify", eCmdHdlrBinary, 0 }, 1, 0 },
	{ { "tls.cacert", eCmdHdlrString, 0 }, 1, 0 },
	{ { "tls.cert", eCmdHdlrString, 0 }, 1, 0 },
	{ { "tls.key", eCmdHdlrString, 0 }, 1, 0 },
	{ { "spool.dir", eCmdHdlrString, 0 }, 1, 0 },
	{ { "errorfile", eCmdHdlrString, 0 }, 1, 0 },
	{ { "event.maxbytes", eCmdHdlrSize, 0 }, 1, 1073741824 },
	{ { "event.oversize", eCmdHdlrGetWord, 0 }, 1, 0 },
	{ { "useack", eCmdHdlrBinary, 0 }, 1, 0 },
	{ { "ack.interval", eCmdHdlrInt, 0 }, 10, 60000 },
	{ { "ack.timeout", eCmdHdlrInt, 0 }, 1000, 3600000 },
	{ { "name", eCmdHdlrGetWord, 0 }, 1, 0 },
	/* rsyslog's own, read so that the log can say what rsyslog will do
	 * with a batch handed back (-1: keep retrying; 0, the default: drop). */
	{ { "action.resumeretrycount", eCmdHdlrInt, 0 }, 1, 0 },
};
#define N_ACTPARAMS ((int)(sizeof(actparams) / sizeof(actparams[0])))
static struct cnfparamdescr actpdescr[N_ACTPARAMS];
static struct cnfparamblk actpblk = { CNFPARAMBLK_VERSION, N_ACTPARAMS, actpdescr };

/* ---- state ----------------------------------------------------------- */

typedef struct modConfData_s {
	rsconf_t *pConf;
	char *library;
	int gomaxprocs;
	long long gomemlimit;
	char *pprof; /* NULL: no profiling endpoint */
} modConfData_t;

/* One action(). Options are kept as text until Go exists to take them. */
typedef struct instanceData {
	const char *names[N_ACTPARAMS + 4]; /* + action.id, defaults of add_workdir_defaults */
	char *values[N_ACTPARAMS + 4];
	int nopts;
	char *tpls[OMSG_MAX_TPLS]; /* template name per slot */
	int ntpls;
	char *name; /* impstats object name */
	statsobj_t *stats;
	intctr_t *counters; /* OMSG_NUM_COUNTERS, written by Go, read by impstats */
	uint64_t handle; /* 0 until activateCnf handed the action to Go */
	struct instanceData *next;
} instanceData;

typedef struct wrkrInstanceData {
	instanceData *pData;
	uint64_t worker; /* Go's per-worker state, made on first commit */
} wrkrInstanceData_t;

static modConfData_t *loadModConf;
static int unnamed_actions; /* for default impstats names */
static instanceData *instances; /* every action, for activateCnf */
static pthread_mutex_t instances_mu = PTHREAD_MUTEX_INITIALIZER;

/* The Go library, loaded once per process: Go cannot be unloaded. */
static struct {
	int loaded;
	omsg_action_new_fn action_new;
	omsg_action_commit_fn commit;
	omsg_action_probe_fn probe;
	omsg_action_free_fn action_free;
	omsg_worker_new_fn worker_new;
	omsg_worker_free_fn worker_free;
} go;

/* Set on a worker thread when rsyslog sends it SIGTTIN, which rsyslog does
 * only to stop queue workers (runtime/wtp.c wtpShutdownAll, wti.c). Thread
 * local, so other threads' retries go on; initial-exec, so the signal
 * handler never has to allocate TLS in this dlopen'ed module. */
static __thread volatile int worker_stopping __attribute__((tls_model("initial-exec")));
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

/* ---- helpers --------------------------------------------------------- */

/* check_server accepts scheme://host[:port][/] with scheme http or https.
 * A URL with user:password@ is refused without being echoed: it may hold
 * the token. */
static int check_server(const char *s)
{
	const char *p;
	size_t authority = strcspn(s, "/") + 2; /* past "scheme://" */
	if (strlen(s) > authority && memchr(s + authority, '@', strcspn(s + authority, "/?#")) != NULL) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": a server URL holds user information (user:password@); put the HEC token "
			 "in token or token.file instead (the URL is not shown: it may hold a secret)");
		return 0;
	}
	if (!strncmp(s, "http://", 7))
		p = s + 7;
	else if (!strncmp(s, "https://", 8))
		p = s + 8;
	else {
		LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": server \"%s\" must start with http:// or https://", s);
		return 0;
	}
	const char *hostEnd;
	if (*p == '[') {
		hostEnd = strchr(p, ']');
		if (hostEnd == NULL || hostEnd == p + 1)
			goto bad;
		hostEnd++;
	} else {
		hostEnd = p + strcspn(p, ":/?#@ ");
		if (hostEnd == p)
			goto bad;
	}
	if (*hostEnd == ':') {
		char *end;
		errno = 0;
		long port = strtol(hostEnd + 1, &end, 10);
		if (end == hostEnd + 1 || errno || port < 1 || port > 65535)
			goto bad;
		hostEnd = end;
	}
	if (*hostEnd == '\0' || !strcmp(hostEnd, "/"))
		return 1;
bad:
	LogError(0, RS_RET_CONFIG_ERROR,
		 MODULE_NAME ": server \"%s\" is not a valid HEC URL: expected http[s]://host[:port], "
		 "e.g. https://splunk.example.com:8088 (the module adds the /services/collector paths)", s);
	return 0;
}

static void add_opt(instanceData *pData, const char *name, char *value)
{
	pData->names[pData->nopts] = name;
	pData->values[pData->nopts] = value;
	pData->nopts++;
}

static const char *find_opt(const instanceData *pData, const char *name)
{
	for (int i = 0; i < pData->nopts; i++)
		if (!strcmp(pData->names[i], name))
			return pData->values[i];
	return NULL;
}

/* template_defined reports, naming the parameter, a template rsyslog does
 * not know (yet): rsyslog resolves templates when it parses the action. */
static int template_defined(const char *param, const char *tpl)
{
	rsconf_t *conf = loadModConf != NULL ? loadModConf->pConf : ourConf;
	if (tplFind(conf, (char *)tpl, (int)strlen(tpl)) != NULL)
		return 1;
	LogError(0, RS_RET_CONFIG_ERROR,
		 MODULE_NAME ": %s=\"%s\": no template of that name is defined; define it with "
		 "template(name=\"%s\" ...) above this action",
		 param, tpl, tpl);
	return 0;
}

/* Metadata template parameters and the option that tells Go their slot. */
static const struct {
	const char *param, *slot;
} meta_templates[] = {
	{ "index.template", "slot.index" },   { "source.template", "slot.source" },
	{ "sourcetype.template", "slot.sourcetype" }, { "host.template", "slot.host" },
	{ "fields.template", "slot.fields" },
};

/* take_template gives a metadata template a slot; parameters naming the
 * same template share one. */
static int take_template(instanceData *pData, const char *param, char *tpl)
{
	const char *slotOpt = NULL;
	char num[16];
	int slot;
	for (size_t i = 0; i < sizeof(meta_templates) / sizeof(meta_templates[0]); i++)
		if (!strcmp(meta_templates[i].param, param))
			slotOpt = meta_templates[i].slot;
	if (slotOpt == NULL || !template_defined(param, tpl)) {
		free(tpl);
		return 0;
	}
	for (slot = OMSG_NUM_FIXED_TPLS; slot < pData->ntpls; slot++)
		if (!strcmp(pData->tpls[slot], tpl))
			break;
	if (slot == pData->ntpls) {
		if (slot == OMSG_MAX_TPLS) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": %s=\"%s\": the *.template parameters of one action may name at most %d "
				 "different templates (rsyslog renders at most %d templates per message for an output "
				 "module, and omsplunkgo uses %d itself); let several parameters name the same template",
				 param, tpl, OMSG_MAX_TPLS - OMSG_NUM_FIXED_TPLS, OMSG_MAX_TPLS, OMSG_NUM_FIXED_TPLS);
			free(tpl);
			return 0;
		}
		pData->tpls[pData->ntpls++] = tpl;
	} else {
		free(tpl);
	}
	snprintf(num, sizeof(num), "%d", slot);
	char *v = strdup(num);
	if (v == NULL)
		return 0;
	add_opt(pData, slotOpt, v);
	return 1;
}

/* read_token_file returns the token in path, without surrounding white
 * space. Errors name the file, never its content. */
static char *read_token_file(const char *path)
{
	char buf[TOKEN_FILE_MAX + 1];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		LogError(errno, RS_RET_CONFIG_ERROR, MODULE_NAME ": token.file=\"%s\" cannot be read", path);
		return NULL;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr || n > TOKEN_FILE_MAX) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": token.file=\"%s\" %s", path,
			 rerr ? "cannot be read" : "is too large to hold a HEC token");
		return NULL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": token.file=\"%s\" is not a text file", path);
		return NULL;
	}
	char *start = buf;
	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n')
		start++;
	char *end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	if (*start == '\0' || strpbrk(start, " \t\r\n") != NULL) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": token.file=\"%s\" must hold one HEC token (one line, no white space within)",
			 path);
		return NULL;
	}
	char *tok = strdup(start);
	memset(buf, 0, sizeof(buf)); /* the secret does not linger on the stack */
	return tok;
}

/* store_param files one validated parameter value (ownership moves). */
static int store_param(instanceData *pData, const char *name, char *text)
{
	if (!strcmp(name, "template")) {
		if (!template_defined(name, text)) {
			free(text);
			return 0;
		}
		pData->tpls[OMSG_TPL_EVENT] = text;
		return 1;
	}
	if (strlen(name) > 9 && !strcmp(name + strlen(name) - 9, ".template"))
		return take_template(pData, name, text);
	if (!strcmp(name, "name")) {
		pData->name = text;
		return 1;
	}
	if (!strcmp(name, "token.file")) {
		char *tok = read_token_file(text);
		free(text);
		if (tok == NULL)
			return 0;
		add_opt(pData, "token", tok);
		return 1;
	}
	if (!strcmp(name, "endpoint") && strcmp(text, "event") && strcmp(text, "raw")) {
		LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": endpoint=\"%s\" must be \"event\" or \"raw\"", text);
		free(text);
		return 0;
	}
	add_opt(pData, name, text);
	return 1;
}

/* parent_dir_exists reports whether path's directory is one. */
static int parent_dir_exists(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return 1; /* relative to rsyslogd's working directory */
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* take_param validates one set parameter and stores it. */
static int take_param(instanceData *pData, const struct actparam *ap, struct svar *v)
{
	const char *name = ap->d.name;
	char *text = NULL;
	char num[32];

	if (v->datatype == 'A') { /* server: one or several URLs, passed on comma-joined */
		size_t len = 1;
		for (int i = 0; i < v->d.ar->nmemb; i++) {
			char *u = es_str2cstr(v->d.ar->arr[i], NULL);
			if (u == NULL)
				return 0;
			int ok = check_server(u) && strchr(u, ',') == NULL;
			char *grown = ok ? realloc(text, len + strlen(u) + 1) : NULL;
			if (grown == NULL) {
				free(u);
				free(text);
				return 0;
			}
			text = grown;
			if (len == 1)
				text[0] = '\0';
			else
				strcat(text, ",");
			strcat(text, u);
			len += strlen(u) + 1;
			free(u);
		}
		if (text == NULL) {
			LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": server must name at least one HEC URL");
			return 0;
		}
	} else if (v->datatype == 'N') {
		long long n = v->d.n;
		if (ap->min <= ap->max && (n < ap->min || n > ap->max)) {
			LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": %s=%lld is out of range, allowed %lld..%lld",
				 name, n, ap->min, ap->max);
			return 0;
		}
		if (ap->d.type == eCmdHdlrBinary)
			snprintf(num, sizeof(num), "%s", n ? "on" : "off");
		else
			snprintf(num, sizeof(num), "%lld", n);
		text = strdup(num);
	} else {
		text = es_str2cstr(v->d.estr, NULL);
		if (text == NULL)
			return 0;
		if (!strcmp(name, "token") && (text[0] == '\0' || strpbrk(text, " \t\r\n") != NULL)) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": token must be a HEC token (non-empty, no white space)");
			free(text);
			return 0;
		}
		if (!strncmp(name, "tls.", 4) && access(text, R_OK) != 0) {
			LogError(errno, RS_RET_CONFIG_ERROR, MODULE_NAME ": %s=\"%s\" cannot be read", name, text);
			free(text);
			return 0;
		}
		if (!strcmp(name, "errorfile") && !parent_dir_exists(text)) {
			LogError(errno, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": errorfile=\"%s\": its directory does not exist", text);
			free(text);
			return 0;
		}
		if (!strcmp(name, "spool.dir") && access(text, W_OK | X_OK) != 0) {
			LogError(errno, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": spool.dir=\"%s\" must be an existing, writable directory", text);
			free(text);
			return 0;
		}
		if (!strcmp(name, "event.oversize") && strcmp(text, "truncate") && strcmp(text, "reject")) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": event.oversize=\"%s\" must be \"truncate\" or \"reject\"", text);
			free(text);
			return 0;
		}
	}
	if (text == NULL)
		return 0;
	return store_param(pData, name, text);
}

static void free_instance_data(instanceData *pData)
{
	for (int i = 0; i < pData->nopts; i++) {
		if (!strcmp(pData->names[i], "token"))
			memset(pData->values[i], 0, strlen(pData->values[i]));
		free(pData->values[i]);
	}
	for (int i = 0; i < OMSG_MAX_TPLS; i++)
		free(pData->tpls[i]);
	free(pData->name);
	/* Once Go had them, a request finishing in the background may still
	 * add to the counters: they are left allocated (a few hundred bytes
	 * per action, at rsyslogd's exit). */
	if (pData->handle == 0)
		free(pData->counters);
	free(pData);
}

/* Go's runtime writes fatal errors to fd 2. rsyslogd closes fds 1 and 2
 * after activation when it daemonizes, and a socket opened later may take
 * their number; keep them pointing at /dev/null instead. */
static void guard_stdio(void)
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

static int load_go(const modConfData_t *mc)
{
	char path[PATH_MAX];
	char err[512] = "";

	if (go.loaded)
		return 1;
	if (!go_library_path(mc, path, sizeof(path))) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": cannot tell where " GO_LIBRARY " is; set module(library=...)");
		return 0;
	}
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
	if (!init || !go.action_new || !go.commit || !go.probe || !go.action_free || !go.worker_new ||
	    !go.worker_free) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": %s is not an omsplunkgo Go library (missing exports)", path);
		return 0;
	}
	if (init(&host, mc ? mc->gomaxprocs : 0, mc ? mc->gomemlimit : 0, mc ? mc->pprof : NULL, err,
		 sizeof(err)) != OMSG_OK) {
		LogError(0, RS_RET_ERR, MODULE_NAME ": %s: %s", path, err);
		return 0;
	}
	go.loaded = 1;
	return 1;
}

/* ---- entry points, in the order rsyslog calls them ------------------- */

static rsRetVal modGetType(eModType_t *t)
{
	*t = eMOD_OUT;
	return RS_RET_OK;
}

/* KEEP: the Go runtime cannot be unloaded from a process. */
static rsRetVal modGetKeepType(eModKeepType_t *t)
{
	*t = eMOD_KEEP;
	return RS_RET_OK;
}

static rsRetVal modExit(void)
{
	return RS_RET_OK;
}

static rsRetVal modGetID(void **id)
{
	*id = (void *)modExit;
	return RS_RET_OK;
}

static rsRetVal getModCnfName(uchar **name)
{
	*name = (uchar *)MODULE_NAME;
	return RS_RET_OK;
}

static rsRetVal isCompatibleWithFeature(syslogFeature f)
{
	return f == sFEATURERepeatedMsgReduction ? RS_RET_OK : RS_RET_INCOMPATIBLE;
}

static rsRetVal beginCnfLoad(modConfData_t **ptr, rsconf_t *pConf)
{
	modConfData_t *mc = calloc(1, sizeof(*mc));
	if (mc == NULL)
		return RS_RET_OUT_OF_MEMORY;
	mc->pConf = pConf;
	loadModConf = mc;
	*ptr = mc;
	return RS_RET_OK;
}

static rsRetVal setModCnf(struct nvlst *lst)
{
	struct cnfparamvals *pvals = nvlstGetParams(lst, &modpblk, NULL);
	if (pvals == NULL) {
		LogError(0, RS_RET_MISSING_CNFPARAMS, MODULE_NAME ": error processing module parameters");
		return RS_RET_MISSING_CNFPARAMS;
	}
	for (int i = 0; i < modpblk.nParams; i++) {
		if (!pvals[i].bUsed)
			continue;
		const char *name = modpblk.descr[i].name;
		if (!strcmp(name, "library"))
			loadModConf->library = es_str2cstr(pvals[i].val.d.estr, NULL);
		else if (!strcmp(name, "gomaxprocs"))
			loadModConf->gomaxprocs = (int)pvals[i].val.d.n;
		else if (!strcmp(name, "gomemlimit"))
			loadModConf->gomemlimit = pvals[i].val.d.n;
		else if (!strcmp(name, "debug.pprof"))
			loadModConf->pprof = es_str2cstr(pvals[i].val.d.estr, NULL);
	}
	cnfparamvalsDestruct(pvals, &modpblk);
	return RS_RET_OK;
}

static rsRetVal endCnfLoad(modConfData_t *mc)
{
	(void)mc;
	loadModConf = NULL;
	return RS_RET_OK;
}

static rsRetVal checkCnf(modConfData_t *mc)
{
	(void)mc;
	return RS_RET_OK;
}

/* check_action applies the rules between parameters. */
static int check_action(instanceData *pData)
{
	int tokens = 0;
	for (int i = 0; i < pData->nopts; i++)
		tokens += !strcmp(pData->names[i], "token");
	if (tokens != 1) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": %s", tokens == 0 ? "one of token or token.file is required"
							 : "set token or token.file, not both");
		return 0;
	}
	return 1;
}

/* request_templates asks rsyslog to render each slot's template; rsyslog
 * takes ownership of the names it is given. */
static int request_templates(instanceData *pData, omodStringRequest_t **ppOMSR)
{
	const char *endpoint = find_opt(pData, "endpoint");
	const char *deflt = endpoint != NULL && !strcmp(endpoint, "raw") ? TPL_RAW : TPL_EVENT;
	if (OMSRconstruct(ppOMSR, pData->ntpls) != RS_RET_OK)
		return 0;
	for (int i = 0; i < pData->ntpls; i++) {
		const char *tpl = i == OMSG_TPL_META ? TPL_META : pData->tpls[i];
		char *copy = strdup(tpl != NULL ? tpl : deflt);
		if (copy == NULL || OMSRsetEntry(*ppOMSR, i, (uchar *)copy, OMSR_NO_RQD_TPL_OPTS) != RS_RET_OK)
			return 0;
	}
	return 1;
}

/* stats_name is omsplunkgo-<action name> (rsyslog's own counters of the
 * action go by the bare name), or omsplunkgo, omsplunkgo-2... for unnamed
 * actions in config order. */
static char *stats_name(instanceData *pData)
{
	char buf[256];
	if (pData->name != NULL) {
		snprintf(buf, sizeof(buf), MODULE_NAME "-%s", pData->name);
		free(pData->name);
		pData->name = strdup(buf);
		return pData->name;
	}
	if (unnamed_actions++ == 0)
		snprintf(buf, sizeof(buf), MODULE_NAME);
	else
		snprintf(buf, sizeof(buf), MODULE_NAME "-%d", unnamed_actions);
	pData->name = strdup(buf);
	return pData->name;
}

static rsRetVal newActInst(uchar *modName, struct nvlst *lst, void **ppModData, omodStringRequest_t **ppOMSR)
{
	(void)modName;
	struct cnfparamvals *pvals;
	instanceData *pData = NULL;
	int ok = 1;

	*ppOMSR = NULL;
	pvals = nvlstGetParams(lst, &actpblk, NULL);
	if (pvals == NULL) {
		LogError(0, RS_RET_MISSING_CNFPARAMS, MODULE_NAME ": action parameters are missing or invalid");
		return RS_RET_MISSING_CNFPARAMS;
	}
	if ((pData = calloc(1, sizeof(*pData))) == NULL ||
	    (pData->counters = calloc(OMSG_NUM_COUNTERS, sizeof(intctr_t))) == NULL) {
		free(pData);
		cnfparamvalsDestruct(pvals, &actpblk);
		return RS_RET_OUT_OF_MEMORY;
	}
	pData->ntpls = OMSG_NUM_FIXED_TPLS;
	for (int i = 0; i < actpblk.nParams; i++)
		if (pvals[i].bUsed && !take_param(pData, &actparams[i], &pvals[i].val))
			ok = 0;
	cnfparamvalsDestruct(pvals, &actpblk);

	if (!ok || !check_action(pData) || !request_templates(pData, ppOMSR)) {
		if (*ppOMSR != NULL) {
			OMSRdestruct(*ppOMSR);
			*ppOMSR = NULL;
		}
		free_instance_data(pData);
		return RS_RET_CONFIG_ERROR;
	}
	char *name = stats_name(pData);
	if (name != NULL) {
		pData->stats = stats_new(name, pData->counters);
		char *id = strdup(name);
		if (id != NULL)
			add_opt(pData, "action.id", id);
	}
	pthread_mutex_lock(&instances_mu);
	pData->next = instances;
	instances = pData;
	pthread_mutex_unlock(&instances_mu);
	*ppModData = pData;
	return RS_RET_OK;
}

/* Adds name=value to an action that did not set name. */
static void add_default(instanceData *p, const char *name, const char *value)
{
	if (p->nopts >= (int)(sizeof(p->names) / sizeof(p->names[0])))
		return;
	for (int i = 0; i < p->nopts; i++)
		if (strcmp(p->names[i], name) == 0)
			return;
	char *v = strdup(value);
	if (v == NULL)
		return;
	add_opt(p, name, v);
}

/* Unless the action says otherwise, batches stranded by a shutdown are
 * saved, and events HEC refuses for good are written, under rsyslog's
 * work directory: nothing is only logged by default. */
static void add_workdir_defaults(instanceData *p, const modConfData_t *mc)
{
	const uchar *wd = mc->pConf != NULL ? glblGetWorkDirRaw(mc->pConf) : NULL;
	char path[4096];
	if (wd == NULL || wd[0] == '\0')
		return;
	add_default(p, "spool.dir", (const char *)wd);
	if (snprintf(path, sizeof(path), "%s/omsplunkgo-rejected.json", (const char *)wd) < (int)sizeof(path))
		add_default(p, "errorfile", path);
}

/* First hook after rsyslogd forked, on the main thread: start Go now. */
static rsRetVal activateCnf(modConfData_t *mc)
{
	char err[1024];
	if (!load_go(mc))
		return RS_RET_ERR;
	pthread_mutex_lock(&instances_mu);
	for (instanceData *p = instances; p != NULL; p = p->next) {
		if (p->handle != 0)
			continue;
		add_workdir_defaults(p, mc);
		err[0] = '\0';
		p->handle = go.action_new(p->names, (const char *const *)p->values, p->nopts, p->counters, err,
					  sizeof(err));
		if (p->handle == 0)
			LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": action not started, its messages stay queued: %s",
				 err);
	}
	pthread_mutex_unlock(&instances_mu);
	return RS_RET_OK;
}

static rsRetVal freeCnf(void *ptr)
{
	modConfData_t *mc = ptr;
	if (mc != NULL) {
		free(mc->library);
		free(mc->pprof);
		free(mc);
	}
	return RS_RET_OK;
}

static rsRetVal createWrkrInstance(wrkrInstanceData_t **ppWrkrData, instanceData *pData)
{
	wrkrInstanceData_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return RS_RET_OUT_OF_MEMORY;
	w->pData = pData;
	*ppWrkrData = w;
	return RS_RET_OK;
}

static rsRetVal freeWrkrInstance(void *p)
{
	wrkrInstanceData_t *w = p;
	if (w != NULL && w->worker != 0 && go.loaded) {
		int oldstate;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
		go.worker_free(w->worker);
		pthread_setcancelstate(oldstate, NULL);
	}
	free(w);
	return RS_RET_OK;
}

static rsRetVal beginTransaction(wrkrInstanceData_t *w)
{
	(void)w;
	return RS_RET_OK;
}

static rsRetVal status_to_rsret(int st)
{
	switch (st) {
	case OMSG_OK:
		return RS_RET_OK;
	default: /* OMSG_SUSPEND, OMSG_ERROR: keep the messages */
		return RS_RET_SUSPENDED;
	}
}

/* One cgo crossing per batch. Cancellation stays off while Go runs: rsyslog
 * may pthread_cancel a worker at shutdown, and unwinding through Go frames
 * corrupts the runtime. The Go side bounds the call (timeout, retry.maxtime),
 * and a pending cancel acts at the next cancellation point after return. */
static rsRetVal commitTransaction(wrkrInstanceData_t *const w, actWrkrIParams_t *const pParams,
				  const unsigned nParams)
{
	instanceData *pData = w->pData;
	int oldstate, st;
	if (!go.loaded || pData->handle == 0)
		return RS_RET_SUSPENDED;
	guard_stdio();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	if (w->worker == 0)
		w->worker = go.worker_new(pData->handle);
	st = w->worker == 0 ? OMSG_ERROR
			    : go.commit(w->worker, (const omsg_str_t *)pParams, (int)nParams, pData->ntpls,
					&worker_stopping);
	pthread_setcancelstate(oldstate, NULL);
	return status_to_rsret(st);
}

/* rsyslog retries a suspended action only after this says OK, so ask HEC's
 * health endpoint rather than assume. */
static rsRetVal tryResume(wrkrInstanceData_t *w)
{
	instanceData *pData = w->pData;
	int oldstate, st;
	if (!go.loaded || pData->handle == 0)
		return RS_RET_SUSPENDED;
	guard_stdio();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	st = go.probe(pData->handle);
	pthread_setcancelstate(oldstate, NULL);
	return st == OMSG_OK ? RS_RET_OK : RS_RET_SUSPENDED;
}

static rsRetVal dbgPrintInstInfo(void *p)
{
	(void)p;
	return RS_RET_OK;
}

static rsRetVal freeInstance(void *p)
{
	instanceData *pData = p;
	if (pData == NULL)
		return RS_RET_OK;
	pthread_mutex_lock(&instances_mu);
	for (instanceData **pp = &instances; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == pData) {
			*pp = pData->next;
			break;
		}
	}
	pthread_mutex_unlock(&instances_mu);
	if (go.loaded && pData->handle != 0)
		go.action_free(pData->handle); /* Go stops writing pData->counters */
	stats_free(pData->stats);
	free_instance_data(pData);
	return RS_RET_OK;
}

/* Legacy "*.* :omsplunkgo:" lines are not supported; saying "not ours"
 * lets other modules claim their own legacy lines. */
static rsRetVal parseSelectorAct(uchar **pp, void **ppModData, omodStringRequest_t **ppOMSR)
{
	(void)pp;
	(void)ppModData;
	(void)ppOMSR;
	return RS_RET_CONFLINE_UNPROCESSED;
}

static rsRetVal queryEtryPt(uchar *name, omsg_entry_point_t *ep)
{
	static const struct {
		const char *name;
		omsg_entry_point_t fn;
	} table[] = {
		{ "getType", (omsg_entry_point_t)modGetType },
		{ "getKeepType", (omsg_entry_point_t)modGetKeepType },
		{ "modGetID", (omsg_entry_point_t)modGetID },
		{ "modExit", (omsg_entry_point_t)modExit },
		{ "getModCnfName", (omsg_entry_point_t)getModCnfName },
		{ "isCompatibleWithFeature", (omsg_entry_point_t)isCompatibleWithFeature },
		{ "beginCnfLoad", (omsg_entry_point_t)beginCnfLoad },
		{ "setModCnf", (omsg_entry_point_t)setModCnf },
		{ "endCnfLoad", (omsg_entry_point_t)endCnfLoad },
		{ "checkCnf", (omsg_entry_point_t)checkCnf },
		{ "activateCnf", (omsg_entry_point_t)activateCnf },
		{ "freeCnf", (omsg_entry_point_t)freeCnf },
		{ "newActInst", (omsg_entry_point_t)newActInst },
		{ "createWrkrInstance", (omsg_entry_point_t)createWrkrInstance },
		{ "freeWrkrInstance", (omsg_entry_point_t)freeWrkrInstance },
		{ "beginTransaction", (omsg_entry_point_t)beginTransaction },
		{ "commitTransaction", (omsg_entry_point_t)commitTransaction },
		{ "tryResume", (omsg_entry_point_t)tryResume },
		{ "dbgPrintInstInfo", (omsg_entry_point_t)dbgPrintInstInfo },
		{ "freeInstance", (omsg_entry_point_t)freeInstance },
		{ "parseSelectorAct", (omsg_entry_point_t)parseSelectorAct },
	};
	if (name == NULL || ep == NULL)
		return RS_RET_PARAM_ERROR;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!strcmp((const char *)name, table[i].name)) {
			*ep = table[i].fn;
			return RS_RET_OK;
		}
	}
	*ep = NULL;
	return RS_RET_MODULE_ENTRY_POINT_NOT_FOUND;
}

__attribute__((visibility("default"))) rsRetVal modInit(int ifVersRequested, int *ifVersProvided, omsg_entry_point_t *queryEtryPtOut,
		 omsg_host_query_t hostQuery, void *modInfo)
{
	(void)modInfo;
	if (ifVersProvided == NULL || queryEtryPtOut == NULL)
		return RS_RET_PARAM_ERROR;
	/* Every rsyslog 8 from 8.2102 to 8.2608 speaks version 6; another
	 * version may lay out what we touch differently: refuse, not crash. */
	if (ifVersRequested != CURR_MOD_IF_VERSION) {
		LogError(0, RS_RET_INCOMPATIBLE,
			 MODULE_NAME ": this rsyslog speaks output module interface version %d, omsplunkgo knows "
			 "version %d (rsyslog 8.2102 to 8.2608); the module is not loaded",
			 ifVersRequested, CURR_MOD_IF_VERSION);
		return RS_RET_INCOMPATIBLE;
	}
	for (int i = 0; i < N_ACTPARAMS; i++)
		actpdescr[i] = actparams[i].d;
	uchar *p = tpl_meta_text;
	tplAddLine(ourConf, TPL_META, &p);
	p = tpl_event_text;
	tplAddLine(ourConf, TPL_EVENT, &p);
	p = tpl_raw_text;
	tplAddLine(ourConf, TPL_RAW, &p);
	stats_init(hostQuery);
	*ifVersProvided = CURR_MOD_IF_VERSION;
	*queryEtryPtOut = (omsg_entry_point_t)queryEtryPt;
	return RS_RET_OK;
}
