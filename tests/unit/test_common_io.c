/* test_common_io.c - self-tests of common/clock.h, log.h, ids.h, atomicio.h, msg.h and out.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/out.h"
#include "tests/unit/t.h"

static char dir[64];

/* A path in the test's directory; four live at a time. */
static const char *tmp_path(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* ---- clock ---- */

static void test_clocks(void)
{
	int64_t prev = clock_mono_ns(), now, t0, dl;
	int back = 0;

	for (int i = 0; i < 200000; i++) {
		now = clock_mono_ns();
		back += now < prev;
		prev = now;
	}
	T_CHECKF(back == 0, "monotonic clock went back %d times", back);
	now = clock_now_ns();
	T_CHECKF(llabs(now / NS_PER_S - (int64_t)time(NULL)) <= 1, "realtime %lld vs time() %lld",
		 (long long)(now / NS_PER_S), (long long)time(NULL));
	T_GT(now, 1700000000 * NS_PER_S); /* after 2023: the clock is set */
	/* sleep_until reaches its deadline, and not much later */
	for (int ms = 1; ms <= 40; ms *= 3) {
		dl = clock_mono_ns() + ms * NS_PER_MS;
		clock_sleep_until(dl);
		now = clock_mono_ns();
		T_CHECKF(now >= dl && now - dl < 100 * NS_PER_MS, "%d ms: woke %lld ns after", ms,
			 (long long)(now - dl));
	}
	/* a deadline in the past returns at once */
	t0 = clock_mono_ns();
	clock_sleep_until(t0 - NS_PER_S);
	clock_sleep_until(0);
	T_LT(clock_mono_ns() - t0, 20 * NS_PER_MS);
	t0 = clock_mono_ns();
	clock_sleep_ns(15 * NS_PER_MS);
	T_GE(clock_mono_ns() - t0, 15 * NS_PER_MS);
	t0 = clock_mono_ns();
	clock_sleep_ns(0);
	clock_sleep_ns(-5 * NS_PER_S);
	T_LT(clock_mono_ns() - t0, 20 * NS_PER_MS);
	/* a sleep longer than a second (tv_sec and tv_nsec both used) */
	t0 = clock_mono_ns();
	clock_sleep_until(t0 + NS_PER_S + 5 * NS_PER_MS);
	T_GE(clock_mono_ns() - t0, NS_PER_S + 5 * NS_PER_MS);
}

static void test_iso8601(void)
{
	static const struct {
		int64_t t;
		const char *s;
	} cases[] = {
		{ 1763805600123456789ll, "2025-11-22T10:00:00.123Z" },
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 999999999, "1970-01-01T00:00:00.999Z" },
		{ 1000000, "1970-01-01T00:00:00.001Z" },
		{ 999999, "1970-01-01T00:00:00.000Z" },
		{ 1709251199999000000ll, "2024-02-29T23:59:59.999Z" },
		{ 951827696007000000ll, "2000-02-29T12:34:56.007Z" },
		{ 4102444800000000000ll, "2100-01-01T00:00:00.000Z" },
		{ -1, "1969-12-31T23:59:59.999Z" },
		{ -1500000000ll, "1969-12-31T23:59:58.500Z" },
	};
	char buf[64], small[16];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 'X', sizeof buf);
		T_EQ(clock_iso8601(cases[i].t, buf, sizeof buf), buf);
		T_CHECKF(strcmp(buf, cases[i].s) == 0, "%lld: %s want %s", (long long)cases[i].t,
			 buf, cases[i].s);
	}
	/* exactly the 24 characters + NUL, and a cut buffer stays terminated */
	T_EQ(strlen(clock_iso8601(0, buf, 25)), 24);
	memset(small, 'X', sizeof small);
	clock_iso8601(1763805600123456789ll, small, 11);
	T_CHECK(strcmp(small, "2025-11-22") == 0 && small[11] == 'X');
}

/* ---- log ---- */

/* Run fn with stderr going to a file; returns the malloc'd text written. */
static char *capture_stderr(void (*fn)(void))
{
	const char *path = tmp_path("stderr.txt");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), saved = dup(2);
	size_t n = 0;
	char *text;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	text = (char *)t_read_file(path, &n);
	if (text)
		text[n] = 0;
	unlink(path);
	return text;
}

static void log_all_levels(void)
{
	log_debug("key=d n=%d", 1);
	log_info("key=i n=%d", 2);
	log_warn("key=w n=%d", 3);
	log_error("key=e n=%d", 4);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Every line: "<ISO time> <level> <component> key=value...", time within 5 s of now. */
static int lines_well_formed(const char *text, const char *component)
{
	regex_t re;
	char pat[256], line[4096];
	const char *p = text;
	int ok = 1;

	snprintf(pat, sizeof pat,
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
		 "(debug|info|warn|error) %s [a-z_]+=[^ ]*( [a-z_]+=[^ ]*)*$",
		 component);
	if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct tm tm = { 0 };
		time_t t;

		snprintf(line, sizeof line, "%.*s", (int)len, p);
		if (!nl || regexec(&re, line, 0, NULL, 0) != 0 ||
		    !strptime(line, "%Y-%m-%dT%H:%M:%S", &tm) ||
		    llabs((long long)((t = timegm(&tm)) - time(NULL))) > 5) {
			fprintf(stderr, "  bad log line: '%s'\n", line);
			ok = 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	regfree(&re);
	return ok;
}

static void test_log_levels(void)
{
	static const struct {
		const char *env;
		int lines;
		const char *first;
	} cases[] = {
		{ NULL, 3, " info logtest key=i n=2\n" },
		{ "debug", 4, " debug logtest key=d n=1\n" },
		{ "info", 3, " info logtest key=i n=2\n" },
		{ "warn", 2, " warn logtest key=w n=3\n" },
		{ "error", 1, " error logtest key=e n=4\n" },
		{ "WARN", 2, " warn logtest key=w n=3\n" },
		{ "loud", 3, " info logtest key=i n=2\n" }, /* unknown: the default */
		{ "", 3, " info logtest key=i n=2\n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text;
		const char *sp;

		/* start from a different level each time: init must not inherit it */
		setenv("PITWALL_LOG_LEVEL", i % 2 ? "error" : "debug", 1);
		log_init("other");
		if (cases[i].env)
			setenv("PITWALL_LOG_LEVEL", cases[i].env, 1);
		else
			unsetenv("PITWALL_LOG_LEVEL");
		log_init("logtest");
		text = capture_stderr(log_all_levels);
		sp = text ? strchr(text, ' ') : NULL;
		T_CHECKF(text && count_lines(text) == cases[i].lines, "level %s: %d lines:\n%s",
			 cases[i].env ? cases[i].env : "(unset)", count_lines(text),
			 text ? text : "");
		T_CHECKF(sp && strncmp(sp, cases[i].first, strlen(cases[i].first)) == 0,
			 "level %s: %s", cases[i].env ? cases[i].env : "(unset)", text ? text : "");
		T_CHECK(text && lines_well_formed(text, "logtest"));
		free(text);
	}
	unsetenv("PITWALL_LOG_LEVEL");
	log_init("logtest");
}

static void log_long(void)
{
	static char big[5000];

	memset(big, 'x', sizeof big - 1);
	log_info("msg=%s", big);
	log_info("msg=after");
}

#define LOG_THREADS 4
#define LOG_LINES 1000

static void *log_thread(void *arg)
{
	for (int i = 0; i < LOG_LINES; i++)
		log_info("thread=%d i=%d pad=%s", (int)(intptr_t)arg, i,
			 "................................................................");
	return NULL;
}

static void log_threads(void)
{
	pthread_t th[LOG_THREADS];

	for (intptr_t i = 0; i < LOG_THREADS; i++)
		pthread_create(&th[i], NULL, log_thread, (void *)i);
	for (int i = 0; i < LOG_THREADS; i++)
		pthread_join(th[i], NULL);
}

static void test_log_lines(void)
{
	char *text;
	static unsigned char seen[LOG_THREADS][LOG_LINES];
	int dup = 0, missing = 0;

	unsetenv("PITWALL_LOG_LEVEL");
	log_init("logtest");
	/* a message beyond the line buffer is cut, still one line */
	text = capture_stderr(log_long);
	T_CHECK(text && count_lines(text) == 2);
	if (text) {
		char *nl = strchr(text, '\n');
		T_CHECK(nl && nl - text < 2048 && nl - text > 2000);
		T_CHECK(nl && strstr(nl, " info logtest msg=after\n"));
	}
	free(text);
	/* threads: every line whole and present once */
	text = capture_stderr(log_threads);
	T_CHECK(text && count_lines(text) == LOG_THREADS * LOG_LINES);
	T_CHECK(text && lines_well_formed(text, "logtest"));
	memset(seen, 0, sizeof seen);
	for (char *p = text; p && (p = strstr(p, " thread=")); p++) {
		int t, i;
		if (sscanf(p, " thread=%d i=%d ", &t, &i) == 2 && t >= 0 && t < LOG_THREADS &&
		    i >= 0 && i < LOG_LINES)
			dup += seen[t][i]++ > 0;
	}
	for (int t = 0; t < LOG_THREADS; t++)
		for (int i = 0; i < LOG_LINES; i++)
			missing += !seen[t][i];
	T_CHECKF(dup == 0 && missing == 0, "dup %d missing %d", dup, missing);
	free(text);
}

/* ---- ids ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void test_ids_new(void)
{
	static char ids[1000][ID_LEN + 1];
	int bad = 0, dups = 0;

	for (int i = 0; i < 1000; i++) {
		const char *s = ids[i];

		memset(ids[i], 'X', sizeof ids[i]);
		T_EQ(ids_new(ids[i]), 0);
		if (strlen(s) != ID_LEN || !ids_valid(s) || s[14] != '4' || !strchr("89ab", s[19]))
			bad++;
		for (int k = 0; k < ID_LEN; k++) {
			int dash = k == 8 || k == 13 || k == 18 || k == 23;
			if (dash ? s[k] != '-' : !strchr("0123456789abcdef", s[k]) || !s[k])
				bad++;
		}
	}
	T_CHECKF(bad == 0, "%d malformed ids, e.g. %s", bad, ids[0]);
	qsort(ids, 1000, sizeof ids[0], cmp_str);
	for (int i = 1; i < 1000; i++)
		dups += strcmp(ids[i], ids[i - 1]) == 0;
	T_EQ(dups, 0);
}

static void test_ids_valid(void)
{
	static const char *const good[] = {
		"3f2b8c1e-5d4a-4b6c-9e8f-0123456789ab", "3F2B8C1E-5D4A-4B6C-9E8F-0123456789AB",
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-1fff-cfff-ffffffffffff", /* any version and variant */
	};
	static const char *const bad[] = {
		"",
		"3f2b8c1e-5d4a-4b6c-9e8f-0123456789a",
		"3f2b8c1e-5d4a-4b6c-9e8f-0123456789abc",
		"3f2b8c1e5d4a-4b6c-9e8f-0123456789ab-",
		"3f2b8c1e-5d4a-4b6c-9e8f-0123456789ag",
		"{3f2b8c1e-5d4a-4b6c-9e8f-0123456789a}",
		"3f2b8c1e-5d4a-4b6c-9e8f-0123456789a\n",
		"3f2b8c1e 5d4a-4b6c-9e8f-0123456789ab",
		"../../../../../../../../../../etc/pass",
		"3f2b8c1e-5d4a-4b6c-9e8f_0123456789ab",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		T_CHECKF(ids_valid(good[i]) == 1, "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		T_CHECKF(ids_valid(bad[i]) == 0, "%s", bad[i]);
	T_EQ(ids_valid(NULL), 0);
}

static void test_ids_name_valid(void)
{
	static const char *const good[] = { "a",      "ksudp", "assetto_corsa", "monza-2024",
					    "spa.v2", "a..b",  "A9_-.",         "-x",
					    "x.",     "_" };
	static const char *const bad[] = { "",        ".",   "..",   "../x", "a/b",         "/abs",
					   ".hidden", "a b", "a\\b", "x\n",  "caf\xc3\xa9", "a:b",
					   "*" };
	char name[80], one[3] = "a";

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		T_CHECKF(ids_name_valid(good[i]) == 1, "'%s'", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		T_CHECKF(ids_name_valid(bad[i]) == 0, "'%s'", bad[i]);
	T_EQ(ids_name_valid(NULL), 0);
	/* length: 64 is the most */
	memset(name, 'n', 64);
	name[64] = 0;
	T_EQ(ids_name_valid(name), 1);
	name[64] = 'n';
	name[65] = 0;
	T_EQ(ids_name_valid(name), 0);
	/* the allowed set, byte by byte: exactly [A-Za-z0-9_.-] */
	for (int c = 1; c < 256; c++) {
		int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		one[1] = (char)c;
		T_CHECKF(ids_name_valid(one) == want, "byte 0x%02x", c);
	}
}

/* Real names and slugs: the slugs are an on-disk format (the file names of
 * track models), so a few are pinned; the rest is checked as properties. */
static void test_ids_slug(void)
{
	static const char *const pinned[][2] = {
		{ "Paul Ricard", "paul_ricard--a7bf65863782" },
		{ "track_ordinal:860", "track_ordinal_860--452ce37c1dc7" },
		{ "Sakhir (Bahrain)", "sakhir_bahrain--99d3e276305b" },
		{ "A / B", "a_b--2b76b142b9fa" },
		{ "\xe6\x97\xa5\xe6\x9c\xac", "_--121d7e35a6d3" },
		/* names stored before slugs keep their files */
		{ "pitwall_ring", "pitwall_ring" },
		{ "Monza", "Monza" },
		{ "ks_nordschleife-endurance.v2", "ks_nordschleife-endurance.v2" },
		/* a safe name shaped like a hashed slug is hashed itself */
		{ "x--0123456789ab", "x--0123456789ab--7acd16751563" },
	};
	static const char *const bad[] = { "", " ", "   ", "tab\there", "nl\n", "del\x7f" };
	char out[IDS_NAME_MAX + 1], name[IDS_REAL_NAME_MAX + 2], seen[400][IDS_NAME_MAX + 1];
	static char names[400][IDS_REAL_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
		T_EQ(ids_slug(pinned[i][0], out), 0);
		T_STREQ(out, pinned[i][1]);
		T_EQ(ids_real_name_valid(pinned[i][0]), 1);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_EQ(ids_real_name_valid(bad[i]), 0);
		T_EQ(ids_slug(bad[i], out), -EINVAL);
	}
	T_EQ(ids_slug(NULL, out), -EINVAL);
	memset(name, 'n', sizeof name);
	name[IDS_REAL_NAME_MAX] = 0;
	T_EQ(ids_real_name_valid(name), 1);
	name[IDS_REAL_NAME_MAX] = 'n';
	name[IDS_REAL_NAME_MAX + 1] = 0;
	T_EQ(ids_real_name_valid(name), 0);
	T_EQ(ids_slug_hashed("abc--0123456789ab"), 1);
	T_EQ(ids_slug_hashed("abc--0123456789AB"), 0);
	T_EQ(ids_slug_hashed("abc-0123456789ab"), 0);
	T_EQ(ids_slug_hashed("--0123456789a"), 0);
	T_EQ(ids_slug_hashed(NULL), 0);
	/* which real names travel URL-encoded as one path segment */
	T_EQ(ids_real_name_in_path("Paul Ricard"), 1);
	T_EQ(ids_real_name_in_path("track_ordinal:860"), 1);
	T_EQ(ids_real_name_in_path("Sakhir (Bahrain)"), 1);
	T_EQ(ids_real_name_in_path("A / B"), 0);
	T_EQ(ids_real_name_in_path("."), 0);
	T_EQ(ids_real_name_in_path(".."), 0);
	T_EQ(ids_real_name_in_path("..."), 1);
	T_EQ(ids_real_name_in_path(""), 0);
	T_EQ(ids_real_name_in_path(NULL), 0);
	/* properties over many names: a slug is a safe path component, the same
	 * name always gives the same slug, different names different slugs, a
	 * hashed slug never equals a name that is its own slug */
	for (int i = 0; i < 400; i++) {
		int n = 1 + (i * 7) % IDS_REAL_NAME_MAX;

		for (int k = 0; k < n; k++)
			name[k] = " aZ9_-.:/()\xc3\xa9"[(i * 31 + k * 17 + k * k * i) % 14];
		name[n] = 0;
		if (!ids_real_name_valid(name))
			name[0] = 'q';
		T_EQ(ids_slug(name, seen[i]), 0);
		T_CHECKF(ids_name_valid(seen[i]), "'%s' -> '%s'", name, seen[i]);
		T_CHECK(ids_slug(name, out) == 0 && strcmp(out, seen[i]) == 0);
		T_CHECK(strcmp(seen[i], name) == 0 || ids_slug_hashed(seen[i]));
		memcpy(names[i], name, sizeof names[i]);
		for (int j = 0; j < i; j++)
			T_CHECKF(strcmp(seen[i], seen[j]) != 0 || strcmp(names[i], names[j]) == 0,
				 "'%s' for '%s' and '%s'", seen[i], names[i], names[j]);
	}
}

/* ---- atomicio ---- */

static int read_str(const char *path, size_t max, char **out, size_t *len)
{
	*out = NULL;
	*len = 12345;
	return atomicio_read(path, max, out, len);
}

/* Names in directory d other than . and .., as one sorted comma list. */
static void list_dir(const char *d, char *out, size_t cap)
{
	char names[32][256];
	int n = 0;
	DIR *dp = opendir(d);
	struct dirent *e;

	out[0] = 0;
	while (dp && (e = readdir(dp)) && n < 32)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	if (dp)
		closedir(dp);
	qsort(names, (size_t)n, sizeof names[0], cmp_str);
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", names[i]);
}

static void test_atomicio_write_read(void)
{
	char d[256], f[256], *got, names[1024];
	size_t len;
	static const char bin[] = "a\0b\nc\xff";

	snprintf(d, sizeof d, "%s", tmp_path("w"));
	snprintf(f, sizeof f, "%s", tmp_path("w/meta.json"));
	T_EQ(atomicio_mkdirs(d), 0);
	T_EQ(atomicio_write(f, "{\"v\":1}", 7), 0);
	T_CHECK(read_str(f, 100, &got, &len) == 0 && len == 7 && strcmp(got, "{\"v\":1}") == 0);
	free(got);
	/* replace: new content, bytes exact (NUL included), terminated; no temp files left */
	T_EQ(atomicio_write(f, bin, sizeof bin), 0);
	T_CHECK(read_str(f, 100, &got, &len) == 0 && len == sizeof bin &&
		memcmp(got, bin, sizeof bin) == 0 && got[len] == 0);
	free(got);
	T_EQ(atomicio_write(f, NULL, 0), 0);
	T_CHECK(read_str(f, 0, &got, &len) == 0 && len == 0 && got && got[0] == 0);
	free(got);
	list_dir(d, names, sizeof names);
	T_CHECKF(strcmp(names, "meta.json") == 0, "%s", names);
	/* max: exactly max is fine, one more is -EFBIG */
	T_EQ(atomicio_write(f, "0123456789", 10), 0);
	T_CHECK(read_str(f, 10, &got, &len) == 0 && len == 10);
	free(got);
	T_CHECK(read_str(f, 9, &got, &len) == -EFBIG && got == NULL);
	T_CHECK(read_str(tmp_path("w/absent"), 10, &got, &len) == -ENOENT && got == NULL);
	/* not regular files */
	T_CHECK(read_str(d, 1 << 20, &got, &len) == -EINVAL && got == NULL);
	T_CHECK(read_str("/dev/null", 1 << 20, &got, &len) == -EINVAL && got == NULL);
	/* a directory that does not exist: an error and nothing created */
	T_EQ(atomicio_write(tmp_path("w/no/such/dir/f"), "x", 1), -ENOENT);
	T_NE(access(tmp_path("w/no"), F_OK), 0);
	list_dir(d, names, sizeof names);
	T_CHECKF(strcmp(names, "meta.json") == 0, "%s", names);
	/* the target is a non-empty directory: rename fails, the directory and its file stay */
	T_EQ(atomicio_mkdirs(tmp_path("w/sub")), 0);
	T_EQ(atomicio_write(tmp_path("w/sub/x"), "keep", 4), 0);
	T_LT(atomicio_write(tmp_path("w/sub"), "new", 3), 0);
	T_CHECK(read_str(tmp_path("w/sub/x"), 10, &got, &len) == 0 && strcmp(got, "keep") == 0);
	free(got);
	list_dir(d, names, sizeof names);
	T_CHECKF(strcmp(names, "meta.json,sub") == 0, "%s", names);
}

/* A write that fails half way (file size limit, which binds root too) leaves the old content. */
static void test_atomicio_failed_write_keeps_old(void)
{
	const char *f = tmp_path("w/keep.json");
	static char big[64 * 1024];
	struct rlimit old, lim;
	char *got, names[1024];
	size_t len;
	int rc;

	T_EQ(atomicio_mkdirs(tmp_path("w")), 0);
	T_EQ(atomicio_write(f, "old content", 11), 0);
	memset(big, 'N', sizeof big);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 4096;
	T_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = atomicio_write(f, big, sizeof big);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	T_CHECKF(rc == -EFBIG, "rc %d", rc);
	T_CHECK(read_str(f, 1 << 20, &got, &len) == 0 && len == 11 &&
		strcmp(got, "old content") == 0);
	free(got);
	list_dir(tmp_path("w"), names, sizeof names);
	T_CHECKF(!strstr(names, ".tmp"), "temp file left: %s", names);
}

/* A reader racing the writer sees either the old or the new file, never a mix. */
static void test_atomicio_concurrent_reader(void)
{
	const char *f = tmp_path("w/race");
	static char a[50000], b[120000];
	pid_t kid;
	int status;

	memset(a, 'A', sizeof a);
	memset(b, 'B', sizeof b);
	T_EQ(atomicio_write(f, a, sizeof a), 0);
	kid = fork();
	if (kid == 0) {
		int64_t end = clock_mono_ns() + 2 * NS_PER_S;
		int torn = 0, reads = 0;
		while (clock_mono_ns() < end) {
			char *got;
			size_t len;
			if (atomicio_read(f, 1 << 20, &got, &len) != 0) {
				torn++;
				continue;
			}
			reads++;
			if (!((len == sizeof a && got[0] == 'A' && memcmp(got, a, len) == 0) ||
			      (len == sizeof b && got[0] == 'B' && memcmp(got, b, len) == 0)))
				torn++;
			free(got);
		}
		_exit(torn ? 1 : reads > 10 ? 0 : 2);
	}
	for (int i = 0; i < 60; i++)
		T_EQ(atomicio_write(f, i % 2 ? a : b, i % 2 ? sizeof a : sizeof b), 0);
	T_EQ(waitpid(kid, &status, 0), kid);
	T_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader status %d", status);
}

static void test_atomicio_mkdirs(void)
{
	struct stat st;
	char abs[512];
	mode_t um = umask(022);

	T_EQ(atomicio_mkdirs(tmp_path("m/a/b/c/d")), 0);
	T_CHECK(stat(tmp_path("m/a/b/c/d"), &st) == 0 && S_ISDIR(st.st_mode));
	T_EQ((st.st_mode & 0777), 0755);
	T_CHECK(stat(tmp_path("m/a"), &st) == 0 && (st.st_mode & 0777) == 0755);
	/* existing, partly existing, trailing slash */
	T_EQ(atomicio_mkdirs(tmp_path("m/a/b/c/d")), 0);
	T_EQ(atomicio_mkdirs(tmp_path("m/a/b/e/")), 0);
	T_CHECK(stat(tmp_path("m/a/b/e"), &st) == 0 && S_ISDIR(st.st_mode));
	T_EQ(atomicio_mkdirs(dir), 0);
	T_EQ(atomicio_mkdirs("/"), 0);
	/* relative paths */
	T_CHECK(getcwd(abs, sizeof abs) != NULL);
	T_EQ(chdir(dir), 0);
	T_EQ(atomicio_mkdirs("rel/x"), 0);
	T_CHECK(stat("rel/x", &st) == 0 && S_ISDIR(st.st_mode));
	T_EQ(chdir(abs), 0);
	/* a file in the way */
	T_EQ(atomicio_write(tmp_path("m/file"), "x", 1), 0);
	T_EQ(atomicio_mkdirs(tmp_path("m/file/sub")), -ENOTDIR);
	T_EQ(atomicio_mkdirs(tmp_path("m/file")), -ENOTDIR);
	T_LT(atomicio_mkdirs(""), 0);
	umask(um);
}

static void test_atomicio_unlink_fsync(void)
{
	T_EQ(atomicio_write(tmp_path("u"), "x", 1), 0);
	T_EQ(atomicio_unlink(tmp_path("u")), 0);
	T_NE(access(tmp_path("u"), F_OK), 0);
	T_EQ(atomicio_unlink(tmp_path("u")), -ENOENT);
	T_EQ(atomicio_mkdirs(tmp_path("udir")), 0);
	T_EQ(atomicio_unlink(tmp_path("udir")), -EISDIR);
	T_EQ(atomicio_fsync_dir(dir), 0);
	T_EQ(atomicio_fsync_dir(tmp_path("absent")), -ENOENT);
	T_EQ(atomicio_write(tmp_path("u"), "x", 1), 0);
	T_EQ(atomicio_fsync_dir(tmp_path("u")), -ENOTDIR);
}

/* Whole reads and writes at offsets, a hole between them, the end of the file. */
static void test_atomicio_pread_pwrite(void)
{
	int fd = open(tmp_path("pio"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	char b[16] = { 0 };

	T_CHECK(fd >= 0);
	T_EQ(atomicio_pwrite(fd, "world", 5, 10), 0);
	T_EQ(atomicio_pwrite(fd, "hello", 5, 0), 0);
	T_EQ(atomicio_pread(fd, b, 15, 0), 0);
	T_MEMEQ(b, "hello\0\0\0\0\0world", 15);
	T_EQ(atomicio_pread(fd, b, 6, 10), -EIO); /* the file ends after 5 */
	T_EQ(atomicio_pread(fd, b, 0, 99), 0);
	close(fd);
	T_EQ(atomicio_pwrite(fd, "x", 1, 0), -EBADF);
	T_EQ(atomicio_pread(fd, b, 1, 0), -EBADF);
}

static void test_atomicio_rmtree(void)
{
	char *got;
	size_t len;
	struct stat st;

	/* outside the tree: a directory with a file, and a lone file */
	T_EQ(atomicio_mkdirs(tmp_path("outside/keep")), 0);
	T_EQ(atomicio_write(tmp_path("outside/keep/precious"), "gold", 4), 0);
	T_EQ(atomicio_write(tmp_path("outside/file"), "silver", 6), 0);
	/* the tree: nested dirs, files on every level, empty dirs, links out */
	T_EQ(atomicio_mkdirs(tmp_path("tree/a/b/c")), 0);
	T_EQ(atomicio_mkdirs(tmp_path("tree/empty")), 0);
	T_EQ(atomicio_write(tmp_path("tree/f0"), "0", 1), 0);
	T_EQ(atomicio_write(tmp_path("tree/a/f1"), "1", 1), 0);
	T_EQ(atomicio_write(tmp_path("tree/a/b/f2"), "2", 1), 0);
	T_EQ(atomicio_write(tmp_path("tree/a/b/c/f3"), "3", 1), 0);
	T_EQ(symlink(tmp_path("outside/keep"), tmp_path("tree/a/link_dir")), 0);
	T_EQ(symlink(tmp_path("outside/file"), tmp_path("tree/a/b/link_file")), 0);
	T_EQ(symlink("../../nowhere", tmp_path("tree/dangling")), 0);
	T_EQ(mkfifo(tmp_path("tree/fifo"), 0600), 0);
	T_EQ(atomicio_rmtree(tmp_path("tree")), 0);
	T_CHECK(lstat(tmp_path("tree"), &st) != 0 && errno == ENOENT);
	/* what the links pointed at is intact */
	T_CHECK(read_str(tmp_path("outside/keep/precious"), 10, &got, &len) == 0 &&
		strcmp(got, "gold") == 0);
	free(got);
	T_CHECK(read_str(tmp_path("outside/file"), 10, &got, &len) == 0 &&
		strcmp(got, "silver") == 0);
	free(got);
	/* the path itself a symlink to a directory: the link goes, the target stays */
	T_EQ(symlink(tmp_path("outside/keep"), tmp_path("toplink")), 0);
	T_EQ(atomicio_rmtree(tmp_path("toplink")), 0);
	T_NE(lstat(tmp_path("toplink"), &st), 0);
	T_EQ(stat(tmp_path("outside/keep/precious"), &st), 0);
	/* a plain file, an absent path */
	T_EQ(atomicio_write(tmp_path("lone"), "x", 1), 0);
	T_CHECK(atomicio_rmtree(tmp_path("lone")) == 0 && access(tmp_path("lone"), F_OK) != 0);
	T_EQ(atomicio_rmtree(tmp_path("absent")), -ENOENT);
	/* a tree as deep as the store ever makes (10 levels) */
	{
		char p[256];
		snprintf(p, sizeof p, "%s", tmp_path("deep"));
		for (int i = 0; i < 10; i++)
			T_STRCAT(p, "/d");
		T_EQ(atomicio_mkdirs(p), 0);
		T_STRCAT(p, "/f");
		T_EQ(atomicio_write(p, "x", 1), 0);
		T_CHECK(atomicio_rmtree(tmp_path("deep")) == 0 &&
			access(tmp_path("deep"), F_OK) != 0);
	}
}

/* atomicio_read on a FIFO: refused at once, not blocked waiting for a writer. */
static void test_atomicio_read_fifo(void)
{
	const char *f = tmp_path("fifo");
	pid_t kid;
	int status = 0, done = 0;

	T_EQ(mkfifo(f, 0600), 0);
	kid = fork();
	if (kid == 0) {
		char *got;
		size_t len;
		_exit(atomicio_read(f, 100, &got, &len) == -EINVAL ? 0 : 1);
	}
	for (int i = 0; i < 200 && !done; i++) {
		done = waitpid(kid, &status, WNOHANG) == kid;
		if (!done)
			clock_sleep_ns(10 * NS_PER_MS);
	}
	if (!done) {
		kill(kid, SIGKILL);
		waitpid(kid, &status, 0);
	}
	T_CHECKF(done && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "atomicio_read on a FIFO %s", done ? "did not give -EINVAL" : "blocked");
	unlink(f);
}

/* ---- msg ---- */

static int parse(const char *s, struct msg_req *req, const char **code, char *msg, size_t cap)
{
	msg[0] = 0;
	return msg_parse_request(s, strlen(s), req, code, msg, cap);
}

static void test_msg_parse(void)
{
	struct msg_req req;
	const char *code;
	char msg[256];
	static const struct {
		const char *json, *id;
	} bad[] = {
		{ "{\"id\":\"r1\",\"cmd\":\"x\"}", "r1" },         /* no v */
		{ "{\"v\":2,\"id\":\"r2\",\"cmd\":\"x\"}", "r2" }, /* wrong v */
		{ "{\"v\":\"1\",\"id\":\"r3\",\"cmd\":\"x\"}", "r3" },
		{ "{\"v\":1.0,\"id\":\"r4\",\"cmd\":\"x\"}", "r4" },
		{ "{\"v\":1,\"id\":\"r5\"}", "r5" },           /* no cmd */
		{ "{\"v\":1,\"id\":\"r6\",\"cmd\":7}", "r6" }, /* cmd not a string */
		{ "{\"v\":1,\"id\":\"r7\",\"cmd\":null}", "r7" },
		{ "{\"v\":1,\"id\":\"r8\",\"cmd\":{\"a\":1}}", "r8" },
		{ "{\"v\":1,\"id\":\"r9\",\"cmd\":\"\"}", "r9" }, /* empty cmd */
		{ "{\"v\":1,\"id\":\"r10\",\"cmd\":\"x\",\"args\":[1]}",
		  "r10" }, /* args not an object */
		{ "{\"v\":1,\"id\":\"r11\",\"cmd\":\"x\",\"args\":\"a\"}", "r11" },
		{ "{\"v\":1,\"id\":\"r12\",\"cmd\":\"x\",\"args\":null}", "r12" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"x\"}", "" },                   /* id not a string */
		{ "{\"v\":1,\"id\":\"a\",\"cmd\":\"x\",\"cmd\":\"y\"}", "" }, /* duplicate key */
		{ "{\"v\":1,\"v\":1,\"cmd\":\"x\"}", "" },
		{ "{\"v\":1,\"cmd\":\"x\"", "" }, /* invalid JSON */
		{ "{\"v\":1,\"cmd\":\"x\"} trailing", "" },
		{ "", "" },
		{ "[1,2]", "" }, /* not an object */
		{ "\"str\"", "" },
		{ "null", "" },
		{ "{\"v\":1,\"cmd\":\"\xff\"}", "" }, /* invalid UTF-8 */
	};

	T_CHECK(parse("{\"v\":1,\"id\":\"abc\",\"cmd\":\"session.create\",\"args\":{\"name\":\"x\"}}",
		      &req, &code, msg, sizeof msg) == 0);
	T_CHECK(strcmp(req.id, "abc") == 0 && strcmp(req.cmd, "session.create") == 0);
	T_CHECK(json_is_object(req.args) && json_object_size(req.args) == 1 &&
		strcmp(json_string_value(json_object_get(req.args, "name")), "x") == 0);
	msg_req_free(&req);
	T_CHECK(req.root == NULL && req.args == NULL && req.cmd == NULL);
	/* absent args: an empty object; absent id: "" */
	T_EQ(parse("{\"cmd\":\"ping\",\"v\":1}", &req, &code, msg, sizeof msg), 0);
	T_CHECK(req.id[0] == 0 && strcmp(req.cmd, "ping") == 0);
	T_CHECK(json_is_object(req.args) && json_object_size(req.args) == 0);
	msg_req_free(&req);
	/* unknown members are tolerated */
	T_EQ(parse("{\"v\":1,\"cmd\":\"a\",\"extra\":[1]}", &req, &code, msg, sizeof msg), 0);
	msg_req_free(&req);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i].json, &req, &code, msg, sizeof msg);
		T_CHECKF(rc == -1 && strcmp(code, MSG_E_BAD_REQUEST) == 0 && msg[0] && !req.root,
			 "'%s': rc %d code %s", bad[i].json, rc, rc ? code : "-");
		T_CHECKF(strcmp(req.id, bad[i].id) == 0, "'%s': id '%s' want '%s'", bad[i].json,
			 req.id, bad[i].id);
		if (rc == 0)
			msg_req_free(&req);
	}
	/* only len bytes are read: no NUL needed */
	{
		const char s[] = "{\"v\":1,\"cmd\":\"a\"}GARBAGE";
		T_EQ(msg_parse_request(s, 17, &req, &code, msg, sizeof msg), 0);
		msg_req_free(&req);
	}
	/* a small message buffer is cut, not overrun */
	{
		char small[8];
		memset(small, 'X', sizeof small);
		T_EQ(msg_parse_request("[]", 2, &req, &code, small, 4), -1);
		T_CHECK(small[3] == 0 && small[4] == 'X');
	}
}

static void test_msg_size_limit(void)
{
	struct msg_req req;
	const char *code;
	char msg[256];
	char *big = malloc(MSG_MAX_BYTES + 2);
	const char *head = "{\"v\":1,\"id\":\"big\",\"cmd\":\"x\",\"args\":{\"pad\":\"";
	size_t h = strlen(head);

	if (!big)
		return;
	/* exactly MSG_MAX_BYTES: accepted */
	memcpy(big, head, h);
	memset(big + h, 'p', MSG_MAX_BYTES - h - 3);
	memcpy(big + MSG_MAX_BYTES - 3, "\"}}", 3);
	T_EQ(msg_parse_request(big, MSG_MAX_BYTES, &req, &code, msg, sizeof msg), 0);
	T_STREQ(req.id, "big");
	T_EQ(json_string_length(json_object_get(req.args, "pad")), MSG_MAX_BYTES - h - 3);
	msg_req_free(&req);
	/* one byte more: too_large, before any parsing */
	memcpy(big + MSG_MAX_BYTES - 3, " \"}}", 4);
	T_EQ(msg_parse_request(big, MSG_MAX_BYTES + 1, &req, &code, msg, sizeof msg), -1);
	T_CHECK(strcmp(code, MSG_E_TOO_LARGE) == 0 && strstr(msg, "1048577") && !req.root);
	free(big);
}

static json_t *parse_reply(const char *s)
{
	json_error_t e;
	json_t *j = s ? json_loads(s, JSON_REJECT_DUPLICATES, &e) : NULL;

	T_CHECKF(j && json_is_object(j), "reply '%s'", s ? s : "(null)");
	return j;
}

static void test_msg_replies(void)
{
	char *s, long_id[512];
	json_t *j;
	struct msg_req req;
	const char *code;
	char msg[256];

	s = msg_reply_ok("r-1", json_pack("{s:i, s:[s]}", "a", 1, "b", "c"));
	T_CHECKF(
		s && strcmp(s,
			    "{\"v\":1,\"id\":\"r-1\",\"ok\":true,\"result\":{\"a\":1,\"b\":[\"c\"]}}") ==
				0,
		"%s", s ? s : "(null)");
	free(s);
	s = msg_reply_ok(NULL, NULL);
	T_CHECKF(s && strcmp(s, "{\"v\":1,\"id\":\"\",\"ok\":true,\"result\":null}") == 0, "%s", s);
	free(s);
	s = msg_reply_ok("x", json_integer(42));
	j = parse_reply(s);
	T_EQ(json_integer_value(json_object_get(j, "result")), 42);
	json_decref(j);
	free(s);
	s = msg_reply_error("r-2", MSG_E_NOT_FOUND, "session %s not found", "s1");
	T_CHECKF(
		s && strcmp(s,
			    "{\"v\":1,\"id\":\"r-2\",\"ok\":false,\"error\":{\"code\":\"not_found\","
			    "\"message\":\"session s1 not found\"}}") == 0,
		"%s", s);
	free(s);
	/* quotes, backslashes and control bytes are escaped and come back */
	s = msg_reply_error(NULL, MSG_E_INTERNAL, "%s", "a \"q\" \\ \n\t end");
	j = parse_reply(s);
	T_CHECK(j &&
		strcmp(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
		       "a \"q\" \\ \n\t end") == 0);
	T_CHECK(j && strcmp(json_string_value(json_object_get(j, "id")), "") == 0 &&
		json_is_false(json_object_get(j, "ok")) &&
		json_integer_value(json_object_get(j, "v")) == 1);
	json_decref(j);
	free(s);
	/* a long message of 2-byte characters is cut at a character, still valid JSON */
	{
		char m[1200];
		for (int i = 0; i < 599; i++)
			memcpy(m + 2 * i, "\xc3\xa9", 2);
		m[1198] = 0;
		s = msg_reply_error("r", MSG_E_IO, "%s",
				    m); /* 511 bytes fit: 255 whole characters */
		j = parse_reply(s);
		T_CHECK(j && strlen(json_string_value(json_object_get(json_object_get(j, "error"),
								      "message"))) == 510);
		json_decref(j);
		free(s);
	}
	/* an id longer than req.id holds, of multibyte characters: the reply can still be built */
	T_STRSET(long_id, "{\"v\":2,\"id\":\"");
	for (int i = 0; i < 100; i++)
		T_STRCAT(long_id, "\xe2\x82\xac"); /* euro sign, 3 bytes */
	T_STRCAT(long_id, "\",\"cmd\":\"x\"}");
	T_EQ(parse(long_id, &req, &code, msg, sizeof msg), -1);
	T_EQ(strlen(req.id), 126); /* 42 whole characters of 127 bytes */
	s = msg_reply_error(req.id, code, "%s", msg);
	j = parse_reply(s);
	T_CHECK(j && strcmp(json_string_value(json_object_get(j, "id")), req.id) == 0);
	json_decref(j);
	free(s);
}

/* A store stand-in: a ROUTER answering from a thread, per command. */
struct server {
	void *router;
	char last_id[128];
	json_t *last_args;
	pthread_mutex_t lock;
};

static void send_reply(void *router, zmq_msg_t *ident, const char *body)
{
	zmq_msg_t copy;

	zmq_msg_init(&copy);
	zmq_msg_copy(&copy, ident);
	zmq_msg_send(&copy, router, ZMQ_SNDMORE);
	zmq_send(router, "", 0, ZMQ_SNDMORE);
	zmq_send(router, body, strlen(body), 0);
}

static void *server_main(void *arg)
{
	struct server *sv = arg;

	for (;;) {
		zmq_msg_t ident, part;
		char body[65536], *rep;
		int n, more;
		struct msg_req req;
		const char *code;
		char msg[256];

		zmq_msg_init(&ident);
		if (zmq_msg_recv(&ident, sv->router, 0) < 0)
			break;
		body[0] = 0;
		n = 0;
		do { /* the delimiter, then the request */
			zmq_msg_init(&part);
			zmq_msg_recv(&part, sv->router, 0);
			if (zmq_msg_size(&part) > 0 && zmq_msg_size(&part) < sizeof body) {
				n = (int)zmq_msg_size(&part);
				memcpy(body, zmq_msg_data(&part), (size_t)n);
			}
			more = zmq_msg_more(&part);
			zmq_msg_close(&part);
		} while (more);
		if (msg_parse_request(body, (size_t)n, &req, &code, msg, sizeof msg) != 0) {
			rep = msg_reply_error(req.id, code, "%s", msg);
			send_reply(sv->router, &ident, rep);
			free(rep);
			zmq_msg_close(&ident);
			continue;
		}
		pthread_mutex_lock(&sv->lock);
		snprintf(sv->last_id, sizeof sv->last_id, "%s", req.id);
		json_decref(sv->last_args);
		sv->last_args = json_deep_copy(req.args);
		pthread_mutex_unlock(&sv->lock);
		if (strcmp(req.cmd, "echo") == 0) {
			rep = msg_reply_ok(req.id, json_incref(req.args));
		} else if (strcmp(req.cmd, "fail") == 0) {
			rep = msg_reply_error(req.id, MSG_E_CONFLICT, "nope %d", 7);
		} else if (strcmp(req.cmd, "bare_error") == 0) {
			rep = malloc(256);
			snprintf(rep, 256, "{\"v\":1,\"id\":\"%s\",\"ok\":false}", req.id);
		} else if (strcmp(req.cmd, "slow") == 0) {
			clock_sleep_ns(300 * NS_PER_MS); /* past the caller's timeout */
			rep = msg_reply_ok(req.id, json_string("late"));
		} else if (strcmp(req.cmd, "stale_first") == 0) {
			/* a reply to someone else, garbage, then the real one */
			char *other = msg_reply_ok("not-yours", json_string("wrong"));
			send_reply(sv->router, &ident, other);
			free(other);
			send_reply(sv->router, &ident, "not json at all");
			send_reply(sv->router, &ident, "[1,2,3]");
			rep = msg_reply_ok(req.id, json_string("right"));
		} else if (strcmp(req.cmd, "drip") == 0) {
			/* stale replies every 20 ms for 600 ms, never the answer */
			for (int i = 0; i < 30; i++) {
				char *other = msg_reply_ok("stale", json_null());
				send_reply(sv->router, &ident, other);
				free(other);
				clock_sleep_ns(20 * NS_PER_MS);
			}
			rep = NULL;
		} else if (strcmp(req.cmd, "quit") == 0) {
			rep = msg_reply_ok(req.id, NULL);
			send_reply(sv->router, &ident, rep);
			free(rep);
			msg_req_free(&req);
			zmq_msg_close(&ident);
			break;
		} else {
			rep = msg_reply_error(req.id, MSG_E_UNKNOWN_CMD, "unknown command %s",
					      req.cmd);
		}
		if (rep)
			send_reply(sv->router, &ident, rep);
		free(rep);
		msg_req_free(&req);
		zmq_msg_close(&ident);
	}
	return NULL;
}

static int call(void *dealer, const char *cmd, json_t *args, int timeout_ms, json_t **res,
		char *code, char *message)
{
	code[0] = message[0] = 0;
	return msg_call(dealer, cmd, args, timeout_ms, res, code, 64, message, 256);
}

static void test_msg_call(void)
{
	void *ctx = zmq_ctx_new(), *dealer;
	struct server sv = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th;
	char ep[128], code[64], message[256];
	json_t *res = NULL;
	int64_t t0, took;
	int linger = 0;

	snprintf(ep, sizeof ep, "ipc://%s/cmd.sock", dir);
	sv.router = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(sv.router, ZMQ_LINGER, &linger, sizeof linger);
	T_EQ(zmq_bind(sv.router, ep), 0);
	dealer = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
	T_EQ(zmq_connect(dealer, ep), 0);
	pthread_create(&th, NULL, server_main, &sv);

	/* ok: the args arrive in a well-formed envelope and come back as the result */
	T_CHECK(call(dealer, "echo", json_pack("{s:s, s:i}", "name", "monza", "n", 3), 2000, &res,
		     code, message) == 0);
	T_CHECK(json_is_object(res) && json_integer_value(json_object_get(res, "n")) == 3 &&
		strcmp(json_string_value(json_object_get(res, "name")), "monza") == 0);
	json_decref(res);
	pthread_mutex_lock(&sv.lock);
	T_CHECKF(ids_valid(sv.last_id), "request id '%s'", sv.last_id);
	pthread_mutex_unlock(&sv.lock);
	/* absent args travel as {} */
	T_EQ(call(dealer, "echo", NULL, 2000, &res, code, message), 0);
	T_CHECK(json_is_object(res) && json_object_size(res) == 0);
	json_decref(res);
	/* error replies: code and message */
	res = (json_t *)1;
	T_EQ(call(dealer, "fail", NULL, 2000, &res, code, message), -1);
	T_CHECK(res == NULL && strcmp(code, MSG_E_CONFLICT) == 0 && strcmp(message, "nope 7") == 0);
	T_EQ(call(dealer, "nosuch", NULL, 2000, &res, code, message), -1);
	T_CHECK(strcmp(code, MSG_E_UNKNOWN_CMD) == 0 && strstr(message, "nosuch"));
	T_EQ(call(dealer, "bare_error", NULL, 2000, &res, code, message), -1);
	T_CHECK(strcmp(code, MSG_E_INTERNAL) == 0 && message[0] == 0);
	/* replies to other ids and garbage before the answer are skipped */
	T_EQ(call(dealer, "stale_first", NULL, 2000, &res, code, message), 0);
	T_CHECK(json_is_string(res) && strcmp(json_string_value(res), "right") == 0);
	json_decref(res);
	/* timeout: unavailable; the late reply then arrives first and is skipped */
	t0 = clock_mono_ns();
	T_EQ(call(dealer, "slow", NULL, 100, &res, code, message), -1);
	took = clock_mono_ns() - t0;
	T_CHECKF(strcmp(code, MSG_E_UNAVAILABLE) == 0 && strstr(message, "100 ms"), "%s %s", code,
		 message);
	T_CHECKF(took >= 100 * NS_PER_MS && took < 250 * NS_PER_MS, "timeout took %lld ms",
		 (long long)(took / NS_PER_MS));
	T_CHECK(call(dealer, "echo", json_pack("{s:s}", "after", "slow"), 2000, &res, code,
		     message) == 0);
	T_CHECK(json_is_string(json_object_get(res, "after")) &&
		strcmp(json_string_value(json_object_get(res, "after")), "slow") == 0);
	json_decref(res);
	/* a stream of stale replies does not stretch the timeout */
	t0 = clock_mono_ns();
	T_EQ(call(dealer, "drip", NULL, 100, &res, code, message), -1);
	took = clock_mono_ns() - t0;
	T_STREQ(code, MSG_E_UNAVAILABLE);
	T_CHECKF(took < 250 * NS_PER_MS, "stale replies stretched a 100 ms timeout to %lld ms",
		 (long long)(took / NS_PER_MS));
	clock_sleep_ns(700 * NS_PER_MS); /* let the drip end */
	/* small code/message buffers are cut safely */
	{
		char c4[4], m8[8];
		memset(c4, 'X', sizeof c4);
		memset(m8, 'X', sizeof m8);
		T_EQ(msg_call(dealer, "fail", NULL, 2000, &res, c4, 3, m8, 5), -1);
		T_CHECK(strcmp(c4, "co") == 0 && c4[3] == 'X' && strcmp(m8, "nope") == 0 &&
			m8[5] == 'X');
	}
	/* nobody there: unavailable in time */
	{
		void *lonely = zmq_socket(ctx, ZMQ_DEALER);
		char ep2[128];
		snprintf(ep2, sizeof ep2, "ipc://%s/nobody.sock", dir);
		zmq_setsockopt(lonely, ZMQ_LINGER, &linger, sizeof linger);
		zmq_connect(lonely, ep2);
		t0 = clock_mono_ns();
		T_EQ(call(lonely, "echo", NULL, 50, &res, code, message), -1);
		T_STREQ(code, MSG_E_UNAVAILABLE);
		T_LT(clock_mono_ns() - t0, 500 * NS_PER_MS);
		zmq_close(lonely);
	}
	T_EQ(call(dealer, "quit", NULL, 2000, &res, code, message), 0);
	json_decref(res);
	pthread_join(th, NULL);
	json_decref(sv.last_args);
	zmq_close(dealer);
	zmq_close(sv.router);
	zmq_ctx_term(ctx);
	unlink(ep + 6);
}

/* out_put writes exactly what out_printf("%s") writes, at every capacity. */
static void test_out(void)
{
	static const char *const parts[] = { "{\"seq\":", "", "7", ",\"name\":\"x\"", "}" };
	char a[64], b[64];

	for (size_t cap = 0; cap <= 32; cap++) {
		struct out oa = { a, cap, 0 }, ob = { b, cap, 0 };

		memset(a, 'A', sizeof a);
		memset(b, 'A', sizeof b);
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			out_printf(&oa, "%s", parts[i]);
			out_put(&ob, parts[i], strlen(parts[i]));
		}
		T_CHECKF(oa.len == 20 && ob.len == oa.len, "cap %zu: %zu %zu", cap, oa.len, ob.len);
		T_CHECKF(memcmp(a, b, sizeof a) == 0, "cap %zu: %.*s vs %.*s", cap, (int)cap, a,
			 (int)cap, b);
		if (cap)
			T_CHECK(strlen(b) == (cap > 20 ? 20 : cap - 1));
		else
			T_CHECK(b[0] == 'A');
	}
	/* bytes after a NUL in the source are not looked at: n decides */
	{
		struct out o = { b, sizeof b, 0 };

		out_put(&o, "ab\0cd", 2);
		T_CHECK(o.len == 2 && strcmp(b, "ab") == 0);
	}
}

/* out_number: the shortest decimal that reads back, as a double or a float. */
static void test_out_number(void)
{
	static const struct {
		double v;
		int is_double;
		const char *text;
	} cases[] = {
		{ 91.769, 1, "91.769" }, /* %.17g: 91.769000000000005 */
		{ 91769 / 1000.0, 1, "91.769" },
		{ 0.1, 1, "0.1" },
		{ 1.0 / 3, 1, "0.3333333333333333" }, /* 16 digits */
		{ 0.1 + 0.2, 1, "0.30000000000000004" },
		{ 1e21, 1, "1e+21" },
		{ -0.0, 1, "-0" },
		{ 42318, 1, "42318" },
		{ 0.1f, 0, "0.1" },
		{ 123.4567f, 0, "123.4567" },   /* 7 digits: %.9g gave 123.456703 */
		{ 187.45678f, 0, "187.45679" }, /* 8 digits: the float is 187.456787109375 */
		{ 16777217.0, 0, "16777216" },  /* as the float it becomes */
		{ 3.4028235e38f, 0, "3.4028235e+38" },
		{ 1e-44f, 0, "1e-44" }, /* a denormal, shortest too */
		{ 1e6f, 0, "1000000" }, /* positional up to 16 digits (numfmt.h) */
	};
	char buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct out o = { buf, sizeof buf, 0 };

		out_number(&o, cases[i].v, cases[i].is_double);
		T_CHECKF(strcmp(buf, cases[i].text) == 0 && o.len == strlen(buf), "%s vs %s", buf,
			 cases[i].text);
	}
	/* every float of a sweep reads back the same, and no shorter text would */
	for (uint32_t bits = 0x3f800000u; bits < 0x3f800000u + 200000u; bits += 7) {
		struct out o = { buf, sizeof buf, 0 };
		float f;
		char shorter[400];
		int digits = 0;

		memcpy(&f, &bits, sizeof f);
		out_number(&o, f, 0);
		T_CHECK(strtof(buf, NULL) == f);
		for (const char *p = buf; *p && *p != 'e'; p++)
			digits += *p >= '0' && *p <= '9';
		if (digits > 1) {
			snprintf(shorter, sizeof shorter, "%.*g", digits - 1, (double)f);
			T_CHECKF(strtof(shorter, NULL) != f, "%s, but %s reads back too", buf,
				 shorter);
		}
	}
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/pw_test_io.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_clocks);
	T_RUN(test_out_number);
	T_RUN(test_iso8601);
	T_RUN(test_log_levels);
	T_RUN(test_log_lines);
	T_RUN(test_ids_new);
	T_RUN(test_ids_valid);
	T_RUN(test_ids_name_valid);
	T_RUN(test_ids_slug);
	T_RUN(test_atomicio_write_read);
	T_RUN(test_atomicio_pread_pwrite);
	T_RUN(test_atomicio_failed_write_keeps_old);
	T_RUN(test_atomicio_concurrent_reader);
	T_RUN(test_atomicio_mkdirs);
	T_RUN(test_atomicio_unlink_fsync);
	T_RUN(test_atomicio_rmtree);
	T_RUN(test_atomicio_read_fifo);
	T_RUN(test_msg_parse);
	T_RUN(test_msg_size_limit);
	T_RUN(test_msg_replies);
	T_RUN(test_msg_call);
	T_RUN(test_out);
	T_EQ(atomicio_rmtree(dir), 0);
	return T_DONE();
}
