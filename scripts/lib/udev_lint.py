#!/usr/bin/env python3
"""Static checks for udev rules files that `udevadm test` (systemd 252) does not make: missing commas between
key/value pairs, match-only keys used with an assignment operator (and the reverse), invalid MODE values,
GROUP/OWNER names not created by our sysusers.d file or the base system, GOTO without LABEL.
Usage: udev_lint.py [--known-groups a,b] RULES... ; prints file:line: problem and exits 1 on any problem."""
import re
import sys

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTRS",
              "TAGS", "CONST", "TEST", "PROGRAM", "RESULT"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG"}
WITH_ATTR = {"ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TEST", "IMPORT", "RUN", "SECLABEL"}
PAIR = re.compile(r'\s*([A-Z_]+)(\{[^}]*\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def logical_lines(path):
    with open(path, encoding="utf-8") as handle:
        buffered, start = "", None
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\n")
            if start is None:
                start = number
            if line.endswith("\\"):
                buffered += line[:-1]
                continue
            yield start, buffered + line
            buffered, start = "", None
        if buffered:
            yield start, buffered


def lint(path, known_groups):
    problems, labels, gotos = [], set(), []
    for number, line in logical_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        position, first = 0, True
        while position < len(text):
            if not first:
                if text[position] != ",":
                    problems.append(f"{path}:{number}: expected ',' before {text[position:position + 20]!r}")
                    break
                position += 1
            match = PAIR.match(text, position)
            if not match:
                problems.append(f"{path}:{number}: cannot parse {text[position:position + 30]!r} "
                                "(KEY==\"value\" or KEY=\"value\" with double quotes)")
                break
            key, attribute, operator, value = match.groups()
            first, position = False, match.end()
            if key not in MATCH_ONLY | ASSIGN_ONLY | BOTH:
                problems.append(f"{path}:{number}: unknown key {key}")
                continue
            if attribute and key not in WITH_ATTR:
                problems.append(f"{path}:{number}: {key} takes no {{attribute}}")
            if key in WITH_ATTR - {"IMPORT", "RUN", "SECLABEL"} and not attribute:
                problems.append(f"{path}:{number}: {key} needs an {{attribute}}")
            is_match = operator in ("==", "!=")
            if key in MATCH_ONLY and not is_match:
                problems.append(f"{path}:{number}: {key} can only be matched (== or !=), not assigned ({operator})")
            if key in ASSIGN_ONLY and is_match:
                problems.append(f"{path}:{number}: {key} can only be assigned, not matched ({operator})")
            if key == "MODE" and not re.fullmatch(r"0?[0-7]{3}", value):
                problems.append(f"{path}:{number}: MODE \"{value}\" is not an octal mode")
            if key in ("GROUP", "OWNER") and "$" not in value and value not in known_groups:
                problems.append(f"{path}:{number}: {key} \"{value}\" is not created by sysusers.d or the base system")
            if key == "LABEL":
                labels.add(value)
            if key == "GOTO":
                gotos.append((number, value))
    for number, label in gotos:
        if label not in labels:
            problems.append(f"{path}:{number}: GOTO \"{label}\" has no LABEL in this file")
    return problems


def main(argv):
    known = {"root", "video", "input", "dialout", "plugdev", "gpio", "tty", "kvm", "render", "audio"}
    files = []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--known-groups":
            known |= set(filter(None, next(arguments).split(",")))
        else:
            files.append(argument)
    problems = [problem for path in files for problem in lint(path, known)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
