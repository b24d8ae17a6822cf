// SPDX-License-Identifier: Apache-2.0

/* An action's parameters: each is checked when rsyslog parses the config
 * (so `rsyslogd -N1` names a bad one without starting Go) and kept as text
 * until activateCnf hands them to Go. The parameters themselves are
 * declared in options.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* Longest token.file accepted: a HEC token is a 36-character GUID. */
#define TOKEN_FILE_MAX 4096


/* Action parameters. Numbers carry their range. Most are handed to Go by
 * name, as text; the template parameters become template slots (see
 * omsplunkgo_plugin.h), token.file becomes token, and name (rsyslog's own
 * action name, read here too) names the impstats object. */
struct actparam {
	struct cnfparamdescr d;
	long long min, max; /* for numbers; min > max means "no range" */
} actparams[] = {
#define OMSG_ACTPARAM(name, type, flags, min, max, ...) { { name, type, flags }, min, max },
	OMSG_ACTION_PARAMS(OMSG_ACTPARAM)
#undef OMSG_ACTPARAM
};
static struct cnfparamdescr actpdescr[N_ACTPARAMS];
struct cnfparamblk actpblk = { CNFPARAMBLK_VERSION, N_ACTPARAMS, actpdescr };

static struct cnfparamdescr modpdescr[] = {
#define OMSG_MODPARAM(name, type, flags, ...) { name, type, flags },
	OMSG_MODULE_PARAMS(OMSG_MODPARAM)
#undef OMSG_MODPARAM
};
struct cnfparamblk modpblk = { CNFPARAMBLK_VERSION, N_MODPARAMS, modpdescr };

static int unnamed_actions; /* for default impstats names */

void params_init(void)
{
	for (int i = 0; i < N_ACTPARAMS; i++)
		actpdescr[i] = actparams[i].d;
}

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

void add_opt(instanceData *pData, const char *name, char *value)
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

/* opt_is reports whether option name is set to value. */
static int opt_is(const instanceData *pData, const char *name, const char *value)
{
	const char *v = find_opt(pData, name);
	return v != NULL && !strcmp(v, value);
}

/* time_guard reports whether time.maxpast or time.maxfuture bounds the
 * reported time. */
static int time_guard(const instanceData *pData)
{
	const char *past = find_opt(pData, "time.maxpast"), *future = find_opt(pData, "time.maxfuture");
	return (past != NULL && atoll(past) > 0) || (future != NULL && atoll(future) > 0);
}

/* check_proxy accepts http://[user:password@]host[:port][/] (or the same
 * without http://). The value is never echoed: it may hold a password. */
static int check_proxy(const char *s)
{
	const char *why = NULL;
	const char *p = s;
	if (!strcmp(s, "none"))
		return 1;
	if (!strncmp(s, "https://", 8))
		why = "an https:// proxy (TLS to the proxy) is not supported; use http://host:port (the connection to HEC "
		      "stays TLS end to end through it)";
	else if (strstr(s, "://") != NULL && strncmp(s, "http://", 7))
		why = "the proxy must be http://[user:password@]host[:port]";
	else {
		if (!strncmp(s, "http://", 7))
			p = s + 7;
		const char *at = strrchr(p, '@');
		if (at != NULL)
			p = at + 1;
		size_t host = strcspn(p, ":/?# ");
		const char *rest = p + host;
		if (host == 0)
			why = "the proxy URL has no host";
		else if (*rest == ':') {
			char *end;
			long port = strtol(rest + 1, &end, 10);
			if (end == rest + 1 || port < 1 || port > 65535 || (*end != '\0' && strcmp(end, "/")))
				why = "the proxy URL has a bad port (1-65535) or a path";
		} else if (*rest != '\0' && strcmp(rest, "/"))
			why = "the proxy URL must be http://[user:password@]host[:port], without a path";
	}
	if (why != NULL) {
		LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": proxy: %s (the value is not shown: it may hold a password)",
			 why);
		return 0;
	}
	return 1;
}

/* check_list_item checks one entry of index.allowed/sourcetype.allowed. */
static int check_list_item(const char *param, const char *v)
{
	const char *star = strchr(v, '*');
	if (*v == '\0' || strchr(v, ',') != NULL || (star != NULL && star[1] != '\0')) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": %s: \"%s\" must be a name without ',' that may end in * (any rest)", param, v);
		return 0;
	}
	return 1;
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

/* has_control_chars reports a byte below 0x20 or DEL: no HEC token holds
 * one, and in an HTTP header it would break the request. */
static int has_control_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* read_token_file returns the token in path, without surrounding white
 * space. Errors name the file, never its content. */
char *read_token_file(const char *path)
{
	char buf[TOKEN_FILE_MAX + 1];
	struct stat st;
	/* O_NONBLOCK: a FIFO must not hang rsyslogd -N1; it is refused below. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		LogError(errno, RS_RET_CONFIG_ERROR, MODULE_NAME ": token.file=\"%s\" cannot be read", path);
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": token.file=\"%s\" is not a regular file (a FIFO or device could block "
			 "rsyslogd); put the token in a plain file", path);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
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
	if (has_control_chars(start)) {
		memset(buf, 0, sizeof(buf));
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": token.file=\"%s\" holds control characters: not a HEC token "
			 "(the token is not shown)", path);
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
		if (tok == NULL) {
			free(text);
			return 0;
		}
		free(pData->token_file);
		pData->token_file = text; /* read again on HUP */
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
int take_param(instanceData *pData, int i, struct svar *v)
{
	const struct actparam *ap = &actparams[i];
	const char *name = ap->d.name;
	char *text = NULL;
	char num[32];

	if (v->datatype == 'A') { /* server: one or several URLs, passed on comma-joined */
		size_t len = 1;
		for (int i = 0; i < v->d.ar->nmemb; i++) {
			char *u = es_str2cstr(v->d.ar->arr[i], NULL);
			if (u == NULL)
				return 0;
			int ok = strcmp(name, "server") ? check_list_item(name, u) : check_server(u) && strchr(u, ',') == NULL;
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
		if (!strcmp(name, "token") && (text[0] == '\0' || strpbrk(text, " \t\r\n") != NULL ||
						has_control_chars(text))) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": token must be a HEC token (non-empty, no white space or control "
				 "characters)");
			free(text);
			return 0;
		}
		if (!strncmp(name, "tls.", 4) && strcmp(name, "tls.servername") && !check_pem(name, text)) {
			free(text);
			return 0;
		}
		if (!strcmp(name, "proxy") && !check_proxy(text)) {
			free(text);
			return 0;
		}
		if (!strcmp(name, "tls.servername") && (text[0] == '\0' || strpbrk(text, " /:@\t") != NULL)) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": tls.servername=\"%s\" must be a host name, e.g. splunk.example.com", text);
			free(text);
			return 0;
		}
		if (!strcmp(name, "time.source") && strcmp(text, "reported") && strcmp(text, "received") &&
		    strcmp(text, "none") && strcmp(text, "extract")) {
			LogError(0, RS_RET_CONFIG_ERROR,
				 MODULE_NAME ": time.source=\"%s\" must be \"reported\", \"received\", \"none\" or \"extract\"",
				 text);
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

void free_instance_data(instanceData *pData)
{
	for (int i = 0; i < pData->nopts; i++) {
		if (!strcmp(pData->names[i], "token"))
			memset(pData->values[i], 0, strlen(pData->values[i]));
		free(pData->values[i]);
	}
	for (int i = 0; i < OMSG_MAX_TPLS; i++)
		free(pData->tpls[i]);
	free(pData->name);
	free(pData->token_file);
	/* Once Go had them, a request finishing in the background may still
	 * add to the counters: they are left allocated (a few hundred bytes
	 * per action, at rsyslogd's exit). */
	if (pData->handle == 0)
		free(pData->counters);
	free(pData->epstats);
	free(pData);
}

/* dump_for_check appends the action's parameters, as parsed and checked,
 * to the file OMSPLUNKGO_CHECK_DUMP names: `omsplunkgo check` runs
 * `rsyslogd -N1` with it, so that it checks what rsyslogd would run
 * (includes, token.file, rsyslog's parameter parser). The file holds the
 * token: the check makes it in a private directory and removes it. */
void dump_for_check(const instanceData *pData, const char *stats_name)
{
	const char *path = getenv("OMSPLUNKGO_CHECK_DUMP");
	if (path == NULL || *path == '\0')
		return;
	FILE *f = fopen(path, "ae");
	if (f == NULL)
		return;
	fprintf(f, "action %s\n", stats_name != NULL ? stats_name : "");
	for (int i = 0; i < pData->nopts; i++) {
		fprintf(f, "opt %s ", pData->names[i]);
		for (const char *c = pData->values[i]; *c != '\0'; c++) {
			if (*c == '\\')
				fputs("\\\\", f);
			else if (*c == '\n')
				fputs("\\n", f);
			else
				fputc(*c, f);
		}
		fputc('\n', f);
	}
	for (int i = OMSG_NUM_FIXED_TPLS; i < pData->ntpls; i++)
		fprintf(f, "template %d %s\n", i, pData->tpls[i]);
	fputs("end\n", f);
	fclose(f);
}

/* count_servers is the number of URLs of the server parameter (joined
 * with commas, which no checked URL holds). */
int count_servers(const instanceData *pData)
{
	const char *s = find_opt(pData, "server");
	int n = s != NULL && *s != '\0';
	for (; s != NULL && *s != '\0'; s++)
		n += *s == ',';
	return n;
}

/* check_action applies the rules between parameters. */
int check_action(instanceData *pData)
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
	if ((find_opt(pData, "tls.cert") == NULL) != (find_opt(pData, "tls.key") == NULL)) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": tls.cert and tls.key go together: a client certificate needs its key, a key its "
			 "certificate");
		return 0;
	}
	if (find_opt(pData, "tls.cert") != NULL && !check_key_pair(find_opt(pData, "tls.cert"), find_opt(pData, "tls.key")))
		return 0;
	int raw = opt_is(pData, "endpoint", "raw");
	if (time_guard(pData) && find_opt(pData, "time.source") != NULL && !opt_is(pData, "time.source", "reported")) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": time.maxpast and time.maxfuture guard the reported time: they need "
			 "time.source=\"reported\"");
		return 0;
	}
	if (raw && (time_guard(pData) || opt_is(pData, "time.source", "none") || opt_is(pData, "time.source", "extract"))) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": with endpoint=\"raw\" Splunk takes each event's time from its line: time.source may "
			 "be \"reported\" or \"received\" only (the built-in line's timestamp), and time.maxpast/maxfuture "
			 "do not apply");
		return 0;
	}
	const char *onrefused = find_opt(pData, "index.onrefused"), *index = find_opt(pData, "index");
	if (onrefused != NULL && index != NULL && !strcmp(onrefused, index)) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": index.onrefused is the action's own index \"%s\": events refused there cannot go "
			 "there", index);
		return 0;
	}
	return 1;
}

/* request_templates asks rsyslog to render each slot's template; rsyslog
 * takes ownership of the names it is given. */
int request_templates(instanceData *pData, omodStringRequest_t **ppOMSR)
{
	const char *endpoint = find_opt(pData, "endpoint");
	int received = opt_is(pData, "time.source", "received");
	const char *deflt = endpoint != NULL && !strcmp(endpoint, "raw") ? (received ? TPL_RAW_RCVD : TPL_RAW) : TPL_EVENT;
	/* The guard compares the reported time with the received one: Go
	 * reads three fields then (plugin/action.go). */
	const char *meta = time_guard(pData) ? TPL_META_BOTH : received ? TPL_META_RCVD : TPL_META;
	if (OMSRconstruct(ppOMSR, pData->ntpls) != RS_RET_OK)
		return 0;
	for (int i = 0; i < pData->ntpls; i++) {
		const char *tpl = i == OMSG_TPL_META ? meta : pData->tpls[i];
		char *copy = strdup(tpl != NULL ? tpl : deflt);
		if (copy == NULL || OMSRsetEntry(*ppOMSR, i, (uchar *)copy, OMSR_NO_RQD_TPL_OPTS) != RS_RET_OK)
			return 0;
	}
	return 1;
}

/* stats_name is omsplunkgo-<action name> (rsyslog's own counters of the
 * action go by the bare name), or omsplunkgo, omsplunkgo-2... for unnamed
 * actions in config order. */
char *stats_name(instanceData *pData)
{
	char buf[64];
	if (pData->name != NULL) {
		/* Sized to the name: a long one must not be cut (two names
		 * sharing their first 250 bytes would share their files). */
		size_t n = strlen(MODULE_NAME "-") + strlen(pData->name) + 1;
		char *full = malloc(n);
		if (full == NULL)
			return NULL;
		snprintf(full, n, MODULE_NAME "-%s", pData->name);
		free(pData->name);
		pData->name = full;
		return pData->name;
	}
	if (unnamed_actions++ == 0)
		snprintf(buf, sizeof(buf), MODULE_NAME);
	else
		snprintf(buf, sizeof(buf), MODULE_NAME "-%d", unnamed_actions);
	pData->name = strdup(buf);
	return pData->name;
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
void add_workdir_defaults(instanceData *p, const modConfData_t *mc)
{
	const uchar *wd = mc->pConf != NULL ? glblGetWorkDirRaw(mc->pConf) : NULL;
	char path[4096];
	if (wd == NULL || wd[0] == '\0')
		return;
	add_default(p, "spool.dir", (const char *)wd);
	if (snprintf(path, sizeof(path), "%s/omsplunkgo-rejected.json", (const char *)wd) < (int)sizeof(path))
		add_default(p, "errorfile", path);
}
