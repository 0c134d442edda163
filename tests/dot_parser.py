"""A small parser for the DOT text that the graphviz package writes, so tests can check the parts they
care about (nodes, labels, edges, clusters) instead of comparing whole strings."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field


@dataclass
class Dot:
    graph: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)  # cluster name -> label text
    cluster_of: dict[str, list[str]] = field(default_factory=dict)  # node -> labels of enclosing clusters

    def text(self, node: str) -> str:
        """A node's label as plain text: HTML tags removed, one space between rows."""
        return plain(self.nodes[node]["label"])

    def find(self, fragment: str) -> list[str]:
        """Nodes whose label text contains ``fragment`` (the legend excluded)."""
        return [n for n in self.nodes if n != "legend" and fragment in self.text(n)]

    def only(self, fragment: str) -> str:
        found = self.find(fragment)
        assert len(found) == 1, f"{fragment!r} matches {found}"
        return found[0]

    def edge_between(self, source: str, target: str) -> dict[str, str]:
        matches = [attrs for s, t, attrs in self.edges if (s, t) == (source, target)]
        assert len(matches) == 1, f"{len(matches)} edges {source} -> {target}"
        return matches[0]

    @property
    def drawn_nodes(self) -> list[str]:
        return [n for n in self.nodes if n != "legend"]


def plain(label: str) -> str:
    text = re.sub(r"</TD>", " ", label)
    text = re.sub(r"<[^<>]*>", "", text)
    text = text.replace("\\n", " ")
    return " ".join(html.unescape(text).split())


def parse(source: str) -> Dot:
    dot = Dot()
    clusters: list[str] = []  # labels of the clusters we are inside
    names: list[str] = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("digraph") or line in ("node", "edge"):
            continue
        if line.startswith("subgraph"):
            names.append(line.split()[1])
            clusters.append("")
            continue
        if line == "}":
            if names:
                dot.clusters[names.pop()] = clusters.pop()
            continue
        if line.startswith(("node [", "edge [")):
            continue
        edge = re.match(r"^(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        statement = re.match(r"^(\w+) \[(.*)\]$", line)
        if edge:
            dot.edges.append((edge.group(1), edge.group(2), _attributes(edge.group(3) or "")))
        elif statement:
            dot.nodes[statement.group(1)] = _attributes(statement.group(2))
            dot.cluster_of[statement.group(1)] = [plain(c) for c in clusters]
        else:
            attributes = _attributes(line)
            if clusters and "label" in attributes:
                clusters[-1] = plain(attributes["label"])
            elif not clusters:
                dot.graph.update(attributes)
    return dot


def _attributes(text: str) -> dict[str, str]:
    """key=value pairs, values bare, "quoted" or <html> (balanced angle brackets)."""
    attrs: dict[str, str] = {}
    i = 0
    while i < len(text):
        match = re.compile(r"\s*(\w+)=").match(text, i)
        if not match:
            break
        key, i = match.group(1), match.end()
        if text[i] == '"':
            end = i + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            attrs[key], i = text[i + 1 : end], end + 1
        elif text[i] == "<":
            depth, end = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            attrs[key], i = text[i + 1 : end - 1], end
        else:
            value = re.compile(r"[^\s\]]+").match(text, i)
            assert value is not None
            attrs[key], i = value.group(0), value.end()
    return attrs
