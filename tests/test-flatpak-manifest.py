#!/usr/bin/env python3
# Checks the Flatpak manifest against the files meson installs, offline: the
# build itself needs Flathub, which CI cannot reach, so what can go wrong
# without building (ids drifting apart, sandbox holes, unpinned sources) is
# caught here. Python stdlib only; prints TAP.
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

APP_ID = "io.github.peercam.Peercam"

# Exactly what a camera call needs: network for signaling and media, display,
# GPU for rendering, audio. The camera itself comes through the portal.
REQUIRED_ARGS = {
    "--share=network",
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--socket=pulseaudio",
}
# Anything broader than the set above would defeat the sandbox.
FORBIDDEN_PREFIXES = (
    "--filesystem",
    "--device=all",
    "--device=shm",
    "--socket=session-bus",
    "--socket=system-bus",
    "--socket=x11",
    "--share=",  # only the two required --share args, checked below
    "--talk-name",
    "--system-talk-name",
    "--own-name",
    "--persist",
    "--allow=devel",
)

results = []


def check(ok, name, diag=None):
    results.append((bool(ok), name, diag))


def main():
    src = os.environ.get("PEERCAM_SOURCE_ROOT") or (sys.argv[1] if len(sys.argv) > 1 else
                                                   os.path.join(os.path.dirname(__file__), ".."))
    path = os.path.join(src, "flatpak", APP_ID + ".json")

    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        check(True, "manifest is valid JSON")
    except (OSError, ValueError) as e:
        check(False, "manifest is valid JSON", str(e))
        return

    app_id = manifest.get("id") or manifest.get("app-id")
    check(app_id == APP_ID, "manifest id is " + APP_ID, "got %r" % app_id)
    check(os.path.basename(path) == (app_id or "") + ".json", "manifest file is named after the app id")

    check(manifest.get("runtime") == "org.gnome.Platform", "runtime is org.gnome.Platform")
    check(manifest.get("sdk") == "org.gnome.Sdk", "sdk is org.gnome.Sdk")
    ver = str(manifest.get("runtime-version", ""))
    check(re.fullmatch(r"\d+", ver) and int(ver) >= 45, "runtime-version is a current GNOME release",
          "got %r" % ver)

    # command must be what meson installs and what the desktop file runs.
    command = manifest.get("command")
    check(command == "peercam", "command is peercam", "got %r" % command)
    src_meson = open(os.path.join(src, "src", "meson.build"), encoding="utf-8").read()
    check(re.search(r"executable\(\s*'%s'" % re.escape(command or "-"), src_meson),
          "src/meson.build builds the command as an executable")

    desktop_in = os.path.join(src, "resources", APP_ID + ".desktop.in.in")
    check(os.path.isfile(desktop_in), "desktop file is named after the app id")
    if os.path.isfile(desktop_in):
        text = open(desktop_in, encoding="utf-8").read()
        exec_line = re.search(r"^Exec=(\S+)", text, re.M)
        check(exec_line and exec_line.group(1) == command, "desktop Exec= runs the manifest command",
              exec_line.group(0) if exec_line else "no Exec=")
        icon = re.search(r"^Icon=(.*)$", text, re.M)
        check(icon and icon.group(1).strip() in ("@APP_ID@", APP_ID), "desktop Icon= is the app id")

    metainfo = [f for f in os.listdir(os.path.join(src, "resources")) if f.endswith(".metainfo.xml.in")]
    check(metainfo == [APP_ID + ".metainfo.xml.in"], "one metainfo file, named after the app id",
          repr(metainfo))
    for f in metainfo:
        root = ET.parse(os.path.join(src, "resources", f)).getroot()
        mid = root.findtext("id")
        check(mid == APP_ID, "metainfo <id> is the app id", "got %r" % mid)
        launch = root.find("launchable[@type='desktop-id']")
        check(launch is not None and launch.text == APP_ID + ".desktop",
              "metainfo launchable is the desktop file")
        binary = root.findtext("provides/binary")
        check(binary in (None, command), "metainfo <provides><binary> is the command", "got %r" % binary)

    schemas = [f for f in os.listdir(os.path.join(src, "resources")) if f.endswith(".gschema.xml")]
    check(schemas == [APP_ID + ".gschema.xml"], "one GSettings schema file, named after the app id",
          repr(schemas))
    for f in schemas:
        root = ET.parse(os.path.join(src, "resources", f)).getroot()
        ids = [s.get("id") for s in root.findall("schema")]
        check(APP_ID in ids, "GSettings schema id is the app id", repr(ids))
        stray = [i for i in ids + [e.get("id") for e in root.findall("enum") + root.findall("flags")]
                 if i != APP_ID and not i.startswith(APP_ID + ".")]
        check(not stray, "every schema/enum id lives under the app id", repr(stray))
        paths = [s.get("path") for s in root.findall("schema") if s.get("path")]
        want = "/" + APP_ID.replace(".", "/") + "/"
        check(all(p.startswith(want) for p in paths), "schema paths live under " + want, repr(paths))

    args = manifest.get("finish-args", [])
    check(len(args) == len(set(args)), "finish-args has no duplicates")
    missing = REQUIRED_ARGS - set(args)
    check(not missing, "finish-args has the required set", "missing: %s" % sorted(missing))
    extra = [a for a in args if a not in REQUIRED_ARGS]
    check(not extra, "finish-args has nothing beyond the required set", "extra: %s" % extra)
    broad = sorted({a for a in args
                    if (a not in REQUIRED_ARGS and a.startswith(FORBIDDEN_PREFIXES)) or "*" in a})
    check(not broad, "no filesystem, device=all, bus sockets or name wildcards", "got %s" % broad)

    modules = manifest.get("modules", [])
    check(modules and isinstance(modules[-1], dict) and modules[-1].get("name") == "peercam",
          "the app is the last module")
    names = [m.get("name") for m in modules if isinstance(m, dict)]
    check("libnice" in names, "libnice is built (the runtime lacks the nice GStreamer plugin)")
    check("libportal" in names, "libportal is built (the GNOME Platform ships it only in the Sdk)")
    for dropped in ("json-glib", "libsoup", "gstreamer", "gtk", "libadwaita"):
        check(not any(n and n.startswith(dropped) for n in names),
              "does not rebuild %s (the runtime has it)" % dropped)

    for m in modules:
        if isinstance(m, str):
            check(not m.startswith(("/", "http")), "module file %s is a relative path" % m)
            continue
        for s in m.get("sources", []):
            name = "module %s: %s source is local or pinned" % (m.get("name"), s.get("type"))
            t = s.get("type")
            if t in ("dir", "file", "patch", "script"):
                p = s.get("path", "")
                ok = (t == "script" or (p and not os.path.isabs(p))) and "url" not in s
                check(ok, name, repr(s))
            elif t == "archive":
                ok = s.get("url", "").startswith("https://") and re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", ""))
                check(ok, name, repr(s))
            elif t == "git":
                ok = s.get("url", "").startswith("https://") and re.fullmatch(r"[0-9a-f]{40}", s.get("commit", ""))
                check(ok, name, repr(s))
            else:
                check(False, name, "unknown source type %r" % t)

    app = modules[-1] if modules and isinstance(modules[-1], dict) else {}
    check(app.get("buildsystem") == "meson", "the app builds with meson")
    check([s.get("type") for s in app.get("sources", [])] == ["dir"] and app["sources"][0].get("path") == "..",
          "the app builds from its own source tree")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash is a failed test, not a missing plan
        check(False, "manifest checks ran", repr(e))
    print("1..%d" % len(results))
    for i, (ok, name, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok and diag:
            print("# " + str(diag))
    sys.exit(0 if all(r[0] for r in results) else 1)
