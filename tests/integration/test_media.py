"""Playlists and search (issue 20): GET /folder/?m3u and GET /folder/?q=.

A real lanhttpd serves a music folder (tone files written here with the
wave module) whose names need encoding ('#', spaces, non-ASCII), beside
a text file, a dotfile and a link out of the root.  ?m3u must give an
extended M3U8 of the audio and video only, with absolute URLs built from
the request's Host, which mpv (a real player, where installed) plays to
the end; the page offers "Play all" only where there is something to
play.  ?q= must find names case-insensitively below the folder only,
show what a listing would show and nothing else (no dotfiles, no link
out of the root), say when a bound cut it short, and not hold up other
clients while it walks a big tree.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse
import wave

from harness import Conn, ServerTest, scaled

MPV = shutil.which("mpv")


def tone(path, seconds=0.5, freq=440):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i /
                                                  8000)))
            for i in range(int(8000 * seconds))))


class Base(ServerTest):
    def setUp(self):
        super().setUp()
        tone(os.path.join(self.root, "Music", "Tone A.wav"))
        tone(os.path.join(self.root, "Music", "b#2 \u00e9t\u00e9.wav"), freq=660)
        self.write("Music/notes.txt", b"not music")
        self.write("Music/.hidden.wav", b"RIFF")
        self.write("Docs/tone-list.txt", b"a text file named tone")
        self.write("Docs/Deep/er/TONE.md", b"deep")
        outside = self.root + "-outside"
        os.makedirs(outside)
        self.addCleanup(shutil.rmtree, outside, True)
        with open(os.path.join(outside, "tone-secret.txt"), "w") as f:
            f.write("outside")
        os.symlink(outside, os.path.join(self.root, "Docs", "link-out"))
        self.srv = self.serve(["-s", "log.access_log=off"])
        self.c = Conn(self.srv.port)
        self.addCleanup(self.c.close)

    def get(self, path, headers=None):
        return self.c.request("GET", path, headers)


class Playlist(Base):
    def test_m3u_of_the_media_with_absolute_urls(self):
        r = self.get("/Music/?m3u", {"Host": "192.0.2.9:8080"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"),
                         "audio/x-mpegurl; charset=utf-8")
        self.assertEqual(r.header("cache-control"), "no-store")
        lines = r.body.decode().splitlines()
        self.assertEqual(lines[0], "#EXTM3U")
        entries = list(zip(lines[1::2], lines[2::2]))
        self.assertEqual(len(entries), 2, lines)
        titles = {t for t, _ in entries}
        self.assertEqual(titles, {"#EXTINF:-1,Tone A",
                                  "#EXTINF:-1,b#2 \u00e9t\u00e9"})
        for _, url in entries:
            u = urllib.parse.urlsplit(url)
            self.assertEqual((u.scheme, u.netloc), ("http", "192.0.2.9:8080"))
            name = urllib.parse.unquote(u.path)
            self.assertIn(name, ("/Music/Tone A.wav",
                                 "/Music/b#2 \u00e9t\u00e9.wav"))
            # Each URL fetches the file itself.
            r = self.get(u.path)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.body.startswith(b"RIFF"))
        # A Host that is not plain gives no absolute URL at all.
        self.assertEqual(self.get("/Music/?m3u", {"Host": "a_b"}).status, 400)

    def test_play_all_only_where_there_is_media(self):
        r = self.get("/Music/", {"Accept": "text/html"})
        self.assertIn(b'<a class="play" href="?m3u">', r.body)
        r = self.get("/Docs/", {"Accept": "text/html"})
        self.assertNotIn(b'href="?m3u"', r.body)
        self.assertIn(b'<input type="search" name="q"', r.body)

    def test_media_links_open_a_player_page(self):
        r = self.get("/Music/", {"Accept": "text/html"})
        self.assertIn(b'href="Tone%20A.wav?play"', r.body)
        self.assertIn(b'href="notes.txt"', r.body)
        r = self.get("/Music/Tone%20A.wav?play")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        self.assertIn(b'<audio controls autoplay src="Tone%20A.wav">',
                      r.body)
        self.assertIn("media-src 'self'",
                      r.header("content-security-policy"))
        # The player's request is the file itself.
        self.assertTrue(self.get("/Music/Tone%20A.wav").body.startswith(
            b"RIFF"))
        # Not media: ?play is nothing, the file is served.
        self.assertEqual(self.get("/Music/notes.txt?play").body,
                         b"not music")

    @unittest.skipIf(MPV is None, "mpv is not installed")
    def test_mpv_plays_the_playlist(self):
        url = "http://127.0.0.1:%d/Music/?m3u" % self.srv.port
        r = subprocess.run([MPV, "--no-config", "--no-video", "--ao=null",
                            "--untimed", "--msg-level=all=info", url],
                           capture_output=True, text=True,
                           timeout=scaled(60))
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        played = [l.split("Playing: ", 1)[1] for l in out.splitlines()
                  if l.startswith("Playing: ")]
        self.assertEqual(sorted(urllib.parse.unquote(p) for p in played), [
            "http://127.0.0.1:%d/Music/Tone A.wav" % self.srv.port,
            "http://127.0.0.1:%d/Music/b#2 \u00e9t\u00e9.wav"
            % self.srv.port])
        self.assertEqual(out.count("pcm_s16le 1ch 8000Hz"), 2, out)
        print("\nmpv played %d playlist entries" % len(played))


class Search(Base):
    def search(self, folder, q, json_=True):
        h = {"Accept": "application/json" if json_ else "text/html"}
        r = self.get(folder + "?q=" + urllib.parse.quote(q), h)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.header("cache-control"), "no-store")
        return json.loads(r.body) if json_ else r.body

    def test_names_below_the_folder_as_a_listing_shows_them(self):
        got = self.search("/", "tone")
        names = sorted(e["name"] for e in got["results"])
        # Case-insensitive; no dotfile, nothing through the link out.
        self.assertEqual(names, ["Docs/Deep/er/TONE.md", "Docs/tone-list.txt",
                                 "Music/Tone A.wav"])
        self.assertFalse(got["partial"])
        got = self.search("/Music/", "TONE")
        self.assertEqual([e["name"] for e in got["results"]], ["Tone A.wav"])
        self.assertEqual([e["href"] for e in got["results"]],
                         ["Tone%20A.wav"])
        page = self.search("/Docs/", "<tone>", json_=False)
        self.assertIn(b"&lt;tone&gt;", page)
        self.assertNotIn(b"<tone>", page)

    def test_bounds_give_partial_results_with_a_note(self):
        for i in range(1005):
            self.write("Many/match-%04d.txt" % i, b"")
        got = self.search("/Many/", "match")
        self.assertEqual(len(got["results"]), 1000)
        self.assertTrue(got["partial"])
        self.assertEqual(got["bound"], "results")
        page = self.search("/Many/", "match", json_=False)
        self.assertIn(b"1000", page)
        deep = "Deep2/" + "/".join("d%02d" % i for i in range(20))
        self.write(deep + "/needle.txt", b"")
        self.write("Deep2/d00/needle-near.txt", b"")
        got = self.search("/Deep2/", "needle")
        self.assertEqual([e["name"] for e in got["results"]],
                         ["d00/needle-near.txt"])
        self.assertEqual(got["bound"], "depth")

    def test_a_big_search_does_not_hold_up_other_clients(self):
        for d in range(150):
            for f in range(40):
                self.write("Big/dir%03d/file%02d.txt" % (d, f), b"")
        self.write("small.txt", b"small")
        done = threading.Event()

        def walk():
            c = Conn(self.srv.port, timeout=scaled(30))
            try:
                for _ in range(3):
                    c.request("GET", "/Big/?q=file&format=json")
            finally:
                c.close()
                done.set()

        t = threading.Thread(target=walk)
        t.start()
        worst = 0.0
        n = 0
        deadline = time.monotonic() + scaled(30)
        while not done.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            self.assertEqual(self.get("/small.txt").body, b"small")
            worst = max(worst, time.monotonic() - t0)
            n += 1
        t.join(scaled(30))
        self.assertLess(worst, scaled(0.5))
        print("\nsearch of 6000 files x3: %d small requests meanwhile, "
              "slowest %.1f ms" % (n, worst * 1000))


if __name__ == "__main__":
    unittest.main()
