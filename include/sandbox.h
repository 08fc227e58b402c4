/*
 * sandbox.h - the daemon confines itself: Landlock for the filesystem,
 * then a seccomp filter for the system calls.
 *
 * Applied once, after the listeners are bound and privileges dropped and
 * before the first request (and before any thread starts: Landlock binds
 * the calling thread and the threads it creates afterwards, not the
 * threads that already run).  Nothing undoes it: a reload that moves the
 * root or an upload path needs a restart.
 *
 * Landlock is best effort: the highest ABI the kernel offers, up to the 7
 * this module knows.  What each ABI adds here:
 *   1  read-only root, read-write upload paths (kept off when there are
 *      write paths: ABI 1 refuses every rename or link across folders,
 *      which the uploads need)
 *   2  renames and links inside the read-write paths (REFER)
 *   3  truncate(2) is refused outside the read-write paths
 *   4  no outgoing TCP connection at all (binding stays free: a reload
 *      may listen on a new address)
 *   5  no ioctl(2) on device files opened after the sandbox
 *   6  no signal to a process outside the sandbox (the abstract unix
 *      socket scope is left off: NOTIFY_SOCKET may be abstract)
 * Two files glibc reads are always readable:
 * /sys/devices/system/cpu/online and /proc/sys/vm/overcommit_memory.
 * Landlock covers opening, creating, removing, renaming, linking and
 * truncating; it does not cover stat(2), readlink(2), extended attributes,
 * chmod/chown, utimes or inotify, nor file descriptors opened before.
 *
 * The seccomp filter kills the whole process on any system call outside
 * its allow-list (see sandbox.c for how the list was made), with a few
 * arguments checked: socket() only for AF_INET, AF_INET6 and AF_UNIX,
 * clone() only for threads, tgkill() only in this process, ioctl() only
 * for socket queue sizes and descriptor flags, prctl() only for thread
 * names; clone3() fails with ENOSYS so that glibc falls back to clone().
 * Sanitizer builds skip it (sandbox_seccomp_skipped()).
 *
 * Not thread-safe; meant for start-up.
 */
#ifndef LANHTTPD_SANDBOX_H
#define LANHTTPD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* The highest Landlock ABI this module knows. */
#define SANDBOX_LANDLOCK_ABI_MAX	7

/*
 * What the daemon may reach.  Every path is canonical (realpath(3)):
 * Landlock rules bind the inode a path names when sandbox_apply() runs,
 * and a directory's rule covers everything beneath it.  Nothing here is
 * kept after sandbox_apply() returns.
 */
struct sandbox_spec {
	/* The share: read-only (files and listings). */
	const char		 *root;
	/*
	 * The [upload] paths: read, write, create and remove files and
	 * folders, rename and link inside them, truncate.
	 */
	const char *const	 *rw;
	size_t			  nrw;
	/* sandbox_allow: more read-only roots (e.g. /mnt/usb). */
	const char *const	 *extra_ro;
	size_t			  nextra;
	/*
	 * Log files that may be appended to and reopened (SIGUSR1): write
	 * access to the file, and in its folder the right to create and
	 * write files (not to read, remove or rename them), so that a log
	 * renamed away by logrotate can be made anew, by logrotate
	 * ("create") or by the reopen.  A log directly in / gets no folder
	 * rule.  A path that does not exist is skipped.
	 */
	const char *const	 *append;
	size_t			  nappend;
	/*
	 * Read at run time (reload): the users file, the MIME types file,
	 * the config file.  A folder here is readable as a whole, which is
	 * what an editor that saves by rename needs.  A path that does not
	 * exist is skipped.
	 */
	const char *const	 *ro_files;
	size_t			  nro_files;
	/* Read-write like rw (the share-link key...); NULL for none. */
	const char		 *state_dir;
};

struct sandbox_report {
	int	landlock_abi;	/* the kernel's ABI; 0: none */
	bool	landlock;	/* Landlock rules are enforced */
	bool	seccomp;	/* the seccomp filter is loaded */
	/* A line for the log: what is on, or what failed. */
	char	detail[256];
};

/*
 * Sets PR_SET_NO_NEW_PRIVS, applies Landlock (when the kernel has it) to
 * the calling thread, then loads the seccomp filter (unless
 * sandbox_seccomp_skipped()).  Before that it loads what glibc would
 * otherwise open later (the time zone, libgcc_s for pthread_cancel()).
 * Returns 0 with *rep filled (rep->landlock false and a note in
 * rep->detail when the kernel has no Landlock), or -1 with rep->detail
 * saying what failed; what came before the failure stays applied.  The
 * caller decides whether a failure is fatal.
 */
int	sandbox_apply(const struct sandbox_spec *spec,
	    struct sandbox_report *rep);

/*
 * True when this build skips the seccomp part: sanitizer builds (ASan,
 * TSan, MSan), whose run-time libraries make system calls of their own
 * that a fixed list cannot know.  Landlock still applies there, with
 * /proc readable for the sanitizers' reports.
 */
bool	sandbox_seccomp_skipped(void);

#endif /* LANHTTPD_SANDBOX_H */
