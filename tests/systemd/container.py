"""A real systemd as PID 1 of a systemd-nspawn container, for the checks.

The recipe is the one in the shared notes on real systemd (Debian 12):

- A minimal Debian tree, built once with debootstrap and kept in the cache
  (~/.cache/lanhttpd/, or $XDG_CACHE_HOME/lanhttpd/) as a plain directory.
  The container runs with --volatile=overlay, a tmpfs over the read-only
  tree, so no run writes into it and no run sees what another left; that
  is why it needs no unpacking per run.  The directory's name carries a
  hash of the recipe, so changing the package list builds a new one.
- Boot: systemd-nspawn --boot --register=no --keep-unit ... started in a
  session and a cgroup of its own.  There is no host systemd to register
  with; --keep-unit makes nspawn create payload/ and supervisor/ under its
  caller's cgroup, so the caller gets a fresh one that is removed after.
- Everything that talks to the container goes through nsenter, bounded by
  timeout(1).
- Power-off always: SIGTERM to nspawn (a clean shutdown, about 0.2 s;
  repeated while systemd is too early in its boot to take it), SIGKILL
  after a deadline, then the container's PID 1 and anything left in our
  cgroups, then the cgroups and nspawn's runtime directories.  The
  launcher also asks the kernel to SIGTERM nspawn if the harness itself is
  killed, and a new run removes what a killed run left behind.
"""

import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

PACKAGES = ("systemd", "dbus", "libnss-systemd", "procps", "libinih1",
            "libavahi-client3", "libqrencode4")
# Bump when the preparation in _prepare_tree() changes.
TREE_RECIPE = 1
NAME_PREFIX = "lanhttpd-test-"

CGROUP_ROOT = "/sys/fs/cgroup"
NSPAWN_RUN = "/run/systemd/nspawn"


class Error(Exception):
    """The container could not be built, booted or reached."""


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "lanhttpd")


def os_release():
    info = {}
    with open("/etc/os-release") as f:
        for line in f:
            k, sep, v = line.strip().partition("=")
            if sep:
                info[k] = v.strip('"')
    return info


def _source_entries():
    """(types, uris, suites) of every entry in the host's apt sources."""
    files = []
    if os.path.exists("/etc/apt/sources.list"):
        files.append("/etc/apt/sources.list")
    d = "/etc/apt/sources.list.d"
    if os.path.isdir(d):
        files += [os.path.join(d, n) for n in sorted(os.listdir(d))
                  if n.endswith((".list", ".sources"))]
    for path in files:
        with open(path) as f:
            text = f.read()
        if path.endswith(".sources"):
            # deb822: stanzas separated by blank lines.
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    k, _, v = line.partition(":")
                    fields[k.strip().lower()] = v.split()
                if fields.get("enabled", ["yes"])[0].lower() == "no":
                    continue
                yield (fields.get("types", []), fields.get("uris", []),
                       fields.get("suites", []))
        else:
            for line in text.splitlines():
                line = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
                if len(line) >= 3:
                    yield [line[0]], [line[1]], [line[2]]


def apt_mirror(suite):
    """The archive the host installs `suite` from (not -security)."""
    for types, uris, suites in _source_entries():
        if "deb" in types and suite in suites and uris:
            return uris[0]
    raise Error("no 'deb' entry for suite %r in the host's apt sources"
                % suite)


def tree_dir(suite):
    key = hashlib.sha256(("%s %s %d" % (suite, " ".join(PACKAGES),
                                        TREE_RECIPE)).encode()).hexdigest()
    return os.path.join(cache_dir(), "tree-%s-%s" % (suite, key[:12]))


def _prepare_tree(root):
    """Trim what a test boot never reads, and mask the console getty."""
    for sub in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc",
                "usr/share/locale", "usr/share/man", "usr/share/info"):
        p = os.path.join(root, sub)
        if os.path.isdir(p):
            for n in os.listdir(p):
                q = os.path.join(p, n)
                if os.path.isdir(q) and not os.path.islink(q):
                    shutil.rmtree(q)
                else:
                    os.unlink(q)
    # Power-off then takes 0.2 s instead of 1.7 s (the notes).
    os.symlink("/dev/null", os.path.join(
        root, "etc/systemd/system/console-getty.service"))


def _remove_build(path):
    """Removes a half-built tree, after whatever debootstrap mounted in it."""
    _unmount_under(path)
    shutil.rmtree(path, ignore_errors=True)


def ensure_tree(log, timeout=600):
    """Returns the cached tree's root, building it first if needed."""
    suite = os_release().get("VERSION_CODENAME")
    if not suite:
        raise Error("no VERSION_CODENAME in /etc/os-release")
    final = tree_dir(suite)
    root = os.path.join(final, "root")
    os.makedirs(cache_dir(), exist_ok=True)
    # One builder at a time; the others wait and then use its tree.
    with open(os.path.join(cache_dir(), "tree.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(root):
            log("tree: cached %s" % final)
            return root
        # A build a killed run left (we hold the lock: nobody builds).
        for n in os.listdir(cache_dir()):
            if n.startswith(".build-"):
                _remove_build(os.path.join(cache_dir(), n))
        mirror = apt_mirror(suite)
        tmp = os.path.join(cache_dir(), ".build-%d" % os.getpid())
        os.mkdir(tmp)
        try:
            log("tree: debootstrap %s from %s (once; cached in %s)"
                % (suite, mirror, cache_dir()))
            argv = ["debootstrap", "--variant=minbase",
                    "--include=" + ",".join(PACKAGES), suite,
                    os.path.join(tmp, "root"), mirror]
            with open(os.path.join(tmp, "debootstrap.log"), "w") as out:
                r = run(argv, timeout, check=False, stdout=out,
                        stderr=subprocess.STDOUT)
            if r.returncode != 0:
                with open(os.path.join(tmp, "debootstrap.log")) as f:
                    tail = f.read()[-3000:]
                raise Error("debootstrap failed (%d):\n%s"
                            % (r.returncode, tail))
            _prepare_tree(os.path.join(tmp, "root"))
            os.unlink(os.path.join(tmp, "debootstrap.log"))
            # Trees of an older recipe are dead weight now.
            for n in os.listdir(cache_dir()):
                if n.startswith("tree-") and n != os.path.basename(final):
                    shutil.rmtree(os.path.join(cache_dir(), n), True)
            os.rename(tmp, final)
            tmp = None
        finally:
            if tmp is not None:
                _remove_build(tmp)
    return root


def cgroup_hierarchies():
    """Mount points of the hierarchies nspawn --keep-unit writes into."""
    found = []
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype, opts = line.split()[:4]
            if not mnt.startswith(CGROUP_ROOT):
                continue
            if fstype == "cgroup2" or (fstype == "cgroup" and
                                       "name=systemd" in opts.split(",")):
                found.append(mnt)
    return found


def _remove_cgroup(path):
    """Kills what is left in a cgroup of ours, then removes it depth-first."""
    if not os.path.isdir(path):
        return
    kill = os.path.join(path, "cgroup.kill")
    if os.path.exists(kill):
        try:
            with open(kill, "w") as f:
                f.write("1")
        except OSError:
            pass
    deadline = time.monotonic() + 10
    for dirpath, _, _ in sorted(os.walk(path), key=lambda t: -len(t[0])):
        while True:
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                # cgroup v1 has no cgroup.kill: kill what is listed.
                try:
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        for pid in f.read().split():
                            try:
                                os.kill(int(pid), signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def workdir():
    """A scratch directory that names its run, for remove_stale()."""
    return tempfile.mkdtemp(prefix="%s%d-" % (NAME_PREFIX, os.getpid()))


def remove_stale(log):
    """Removes what a run of this harness left when it was killed.

    Such a run's nspawn got SIGTERM from the kernel and powered off; its
    cgroups and scratch directory stay (and nspawn's runtime directories,
    which the power-off of this run removes).
    """
    def dead(m):
        return m is not None and not os.path.exists("/proc/%s" % m.group(1))

    for h in cgroup_hierarchies():
        for n in os.listdir(h):
            if dead(re.fullmatch(re.escape(NAME_PREFIX) + r"(\d+)", n)):
                log("removing what a killed run left: %s" % os.path.join(h, n))
                _remove_cgroup(os.path.join(h, n))
    tmp = tempfile.gettempdir()
    for n in os.listdir(tmp):
        if dead(re.match(re.escape(NAME_PREFIX) + r"(\d+)-", n)):
            log("removing what a killed run left: %s" % os.path.join(tmp, n))
            shutil.rmtree(os.path.join(tmp, n), ignore_errors=True)


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
MNT_DETACH = 2


def _unmount_under(path):
    """Detaches every mount below path, deepest first."""
    path = os.path.realpath(path) + "/"
    with open("/proc/self/mounts") as f:
        mnts = [line.split()[1].replace("\\040", " ") for line in f]
    for m in sorted((m for m in mnts if m.startswith(path)), key=len,
                    reverse=True):
        _libc.umount2(m.encode(), MNT_DETACH)


class Container:
    """One booted container; use as a context manager (power-off on exit)."""

    def __init__(self, tree, workdir, log):
        self.tree = tree
        self.workdir = workdir
        self.log = log
        self.name = NAME_PREFIX + str(os.getpid())
        self.cgroups = [os.path.join(h, self.name)
                        for h in cgroup_hierarchies()]
        self.console = os.path.join(workdir, "console.log")
        self.nspawn = None
        self.pid1 = None
        self.pid1_start = None

    # Start and stop.

    def _launch(self):
        """Runs in the child before exec: own cgroups, die with us."""
        for cg in self.cgroups:
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    def boot(self, timeout=30):
        if not self.cgroups:
            raise Error("no cgroup2 or name=systemd hierarchy under %s"
                        % CGROUP_ROOT)
        for cg in self.cgroups:
            os.mkdir(cg)
        argv = ["systemd-nspawn", "-q", "-D", self.tree, "-M", self.name,
                "--boot", "--register=no", "--keep-unit",
                "--console=read-only",
                # bpf for systemd's own filters; Landlock for the daemon's
                # sandbox, which nspawn's allow-list leaves out.
                "--system-call-filter=bpf landlock_create_ruleset "
                "landlock_add_rule landlock_restrict_self",
                "--volatile=overlay", "--private-network"]
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        with open(self.console, "wb") as out:
            self.nspawn = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                preexec_fn=self._launch)
        deadline = time.monotonic() + timeout
        # The container's PID 1 is the child of nspawn that runs systemd in
        # a PID namespace of its own (nspawn forks helpers on the way).
        while self.pid1 is None:
            if self.nspawn.poll() is not None:
                raise Error("systemd-nspawn exited (%d):\n%s"
                            % (self.nspawn.returncode, self.console_tail()))
            self.pid1 = _find_pid1(self.nspawn.pid)
            if self.pid1 is not None:
                self.pid1_start = _start_time(self.pid1)
            elif time.monotonic() > deadline:
                raise Error("no container PID 1 after %d s" % timeout)
            else:
                time.sleep(0.02)
        state = ""
        while state not in ("running", "degraded"):
            if time.monotonic() > deadline:
                raise Error("system state %r after %d s (%s); console:\n%s"
                            % (state, timeout, r.stderr.strip(),
                               self.console_tail()))
            time.sleep(0.05)
            r = self.run(["systemctl", "is-system-running"], timeout=5,
                         check=False)
            state = r.stdout.strip()
        if state == "degraded":
            failed = self.run(["systemctl", "--failed", "--no-legend"],
                              check=False).stdout
            self.log("container is degraded (not our units):\n" + failed)
        return state

    def poweroff(self, timeout=15):
        """Stops the container, whatever its state; never raises."""
        errors = []
        killed = False
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn passes SIGTERM on as a halt request; systemd early in
            # its boot has no handler yet and drops it, so ask again.
            deadline = time.monotonic() + timeout
            while self.nspawn.poll() is None and time.monotonic() < deadline:
                self.nspawn.send_signal(signal.SIGTERM)
                try:
                    self.nspawn.wait(2)
                except subprocess.TimeoutExpired:
                    pass
            if self.nspawn.poll() is None:
                errors.append("no clean power-off in %d s: SIGKILL" % timeout)
                try:
                    os.killpg(self.nspawn.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.nspawn.wait(10)
                killed = True
        # Without nspawn the container's PID 1 would live on, reparented.
        if self.pid1 is not None and _start_time(self.pid1) == self.pid1_start:
            errors.append("container PID 1 outlived nspawn: SIGKILL")
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for cg in self.cgroups:
            try:
                _remove_cgroup(cg)
            except OSError as e:
                errors.append("cannot remove %s: %s" % (cg, e))
        for d in (os.path.join(NSPAWN_RUN, "propagate", self.name),
                  os.path.join(NSPAWN_RUN, "unix-export", self.name)):
            shutil.rmtree(d, ignore_errors=True)
        if killed:
            _remove_image_lock(self.tree)
        # nspawn leaves its runtime directories; empty ones go while no
        # other run of ours is up (one busy with nspawn keeps files there).
        if not any(n.startswith(NAME_PREFIX) for h in cgroup_hierarchies()
                   for n in os.listdir(h)):
            for d in ("propagate", "locks", "unix-export", ""):
                try:
                    os.rmdir(os.path.join(NSPAWN_RUN, d))
                except OSError:
                    pass
        for e in errors:
            self.log("power-off: " + e)
        return errors

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.poweroff()
        return False

    def console_tail(self, n=30):
        try:
            with open(self.console, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    # Talking to it.

    def path(self, p):
        """Host path of the container's p (inside its overlay)."""
        return "/proc/%d/root%s" % (self.pid1, p)

    def write(self, p, data, mode=0o644):
        host = self.path(p)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        with open(host, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(host, mode)

    def run(self, argv, timeout=30, check=True, **kw):
        """Runs argv inside the container (all its namespaces)."""
        return run(["nsenter", "-t", str(self.pid1), "-a"] + list(argv),
                   timeout, check, **kw)

    def net(self, argv, timeout=30, check=True, **kw):
        """Runs a host program in the container's network namespace."""
        return run(["nsenter", "-t", str(self.pid1), "-n"] + list(argv),
                   timeout, check, **kw)

    def popen(self, argv, timeout=30, **kw):
        """Like run(), in the background."""
        return popen(["nsenter", "-t", str(self.pid1), "-a"] + list(argv),
                     timeout, **kw)

    def net_popen(self, argv, timeout=30, **kw):
        """Like net(), in the background."""
        return popen(["nsenter", "-t", str(self.pid1), "-n"] + list(argv),
                     timeout, **kw)


def _remove_image_lock(tree):
    """The lock file on the tree that a killed nspawn could not remove."""
    st = os.stat(tree)
    path = os.path.join(NSPAWN_RUN, "locks", "inode-%d:%d"
                        % (st.st_dev, st.st_ino))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:
        # Held by nobody (another run would hold it): ours to remove.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _find_pid1(parent):
    try:
        with open("/proc/%d/task/%d/children" % (parent, parent)) as f:
            kids = [int(k) for k in f.read().split()]
        mine = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    for kid in kids:
        try:
            with open("/proc/%d/comm" % kid) as f:
                comm = f.read().strip()
            if comm == "systemd" and \
                    os.readlink("/proc/%d/ns/pid" % kid) != mine:
                return kid
        except OSError:
            pass
    return None


def _start_time(pid):
    """Field 22 of /proc/PID/stat, to tell a PID from a reused one."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


# Every program runs under timeout(1): it signals the program's whole
# process group (nsenter forks to enter a PID namespace), and -k follows up
# with SIGKILL.  The subprocess timeout is only a backstop.

_live = set()


def _bounded(argv, timeout):
    return ["timeout", "-k", "2", "%g" % timeout] + list(argv)


def _end_group(p):
    """TERM, then KILL, to the process group timeout(1) leads."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(wait)
            return
        except subprocess.TimeoutExpired:
            pass


def run(argv, timeout=30, check=True, text=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(_bounded(argv, timeout), text=text, **kw)
    try:
        out, err = p.communicate(timeout=timeout + 10)
    except BaseException:
        # Ctrl-C or the backstop: the whole group, not just timeout(1).
        _end_group(p)
        raise
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    if r.returncode == 124:
        raise Error("timed out after %g s: %s" % (timeout, " ".join(argv)))
    if check and r.returncode != 0:
        raise Error("%s: exit %d\n%s%s" % (" ".join(argv), r.returncode,
                                           r.stdout or "", r.stderr or ""))
    return r


def popen(argv, timeout=30, **kw):
    """A bounded background program; kill_all() ends those still running."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(_bounded(argv, timeout), **kw)
    _live.add(p)
    return p


def reap(p, timeout):
    try:
        return p.communicate(timeout=timeout)
    finally:
        _live.discard(p)


def kill_all():
    """Ends background programs that are still running."""
    for p in list(_live):
        if p.poll() is None:
            _end_group(p)
        _live.discard(p)
