"""Catalogue records as DCAT 3 in JSON-LD, and back.

The mapping is read from the models: every field's RDF property is its LinkML ``slot_uri`` (the UK model's
or the workbench extension's), every nested record is a node typed by its ``class_uri``. Ordered lists
(columns, categories) are RDF lists; organisations are their GOV.UK pages; Dublin Core frequencies are
their URIs. Reading a graph back gives the same normalised records, so an export re-imports without loss.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import rdflib

from workbench.catalogue.model import URI, ClassDef, MetadataInvalid, Slot, schema, validate
from workbench.errors import InvalidInput

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

GOVUK_ORGANISATION = "https://www.gov.uk/government/organisations/"
CATALOGUE_TITLE = "Workbench catalogue"


def _rdf():
    return rdflib


def _context() -> dict[str, str]:
    model = schema()
    context = {k: v for k, v in model.prefixes.items() if k not in ("linkml",)}
    context["xsd"] = "http://www.w3.org/2001/XMLSchema#"
    return context


def _to_term(graph: Graph, slot: Slot, value: Any) -> Node:
    rdflib = _rdf()
    model = schema()
    rng = slot.range
    if rng in model.classes:
        return _add_node(graph, model.classes[rng], value, None)
    if rng == "CompletenessMap":
        return rdflib.Literal(json.dumps(value, sort_keys=True), datatype=rdflib.RDF.JSON)
    if rng in model.enums:
        if model.enum_uris.get(rng):
            return rdflib.URIRef(model.expand(value))
        return rdflib.Literal(value)
    if rng == "OrganisationValues":
        return rdflib.URIRef(GOVUK_ORGANISATION + value)
    if rng == "date":
        return rdflib.Literal(value, datatype=rdflib.XSD.date)
    if rng == "integer":
        return rdflib.Literal(int(value))
    if rng == "float":
        return rdflib.Literal(float(value), datatype=rdflib.XSD.double)
    if rng in ("uri", "uriorcurie") and URI.match(value):
        return rdflib.URIRef(value)
    return rdflib.Literal(value)


def _add_node(graph: Graph, cls: ClassDef, record: dict[str, Any], subject: Node | None) -> Node:
    rdflib = _rdf()
    model = schema()
    node = subject if subject is not None else rdflib.BNode()
    if cls.class_uri:
        graph.add((node, rdflib.RDF.type, rdflib.URIRef(model.expand(cls.class_uri))))
    for name, slot in cls.slots.items():
        if name not in record or slot.designates_type:
            continue
        predicate = rdflib.URIRef(model.slot_uri(slot))
        value = record[name]
        if slot.multivalued and slot.ordered:
            head = rdflib.BNode()
            rdflib.collection.Collection(graph, head, [_to_term(graph, slot, v) for v in value])
            graph.add((node, predicate, head))
        else:
            for item in value if slot.multivalued else [value]:
                graph.add((node, predicate, _to_term(graph, slot, item)))
    return node


def _subject_for(record: dict[str, Any]) -> Node:
    rdflib = _rdf()
    identifier = record.get("identifier", "")
    return rdflib.URIRef(identifier) if URI.match(identifier) else rdflib.BNode()


def to_graph(datasets: Iterable[dict[str, Any]], distributions: Iterable[dict[str, Any]] = ()) -> Graph:
    """A DCAT graph holding a catalogue of these dataset records and the distributions they use."""
    rdflib = _rdf()
    model = schema()
    graph = rdflib.Graph()
    for prefix, uri in _context().items():
        graph.bind(prefix, uri)
    dcat = rdflib.Namespace(model.prefixes["dcat"])
    catalogue = rdflib.BNode()
    graph.add((catalogue, rdflib.RDF.type, dcat.Catalog))
    graph.add((catalogue, rdflib.URIRef(model.expand("dct:title")), rdflib.Literal(CATALOGUE_TITLE)))
    for record in datasets:
        node = _add_node(graph, model.classes["Dataset"], record, _subject_for(record))
        graph.add((catalogue, dcat.dataset, node))
    for record in distributions:
        _add_node(graph, model.classes["Distribution"], record, _subject_for(record))
    return graph


def to_jsonld(datasets: Iterable[dict[str, Any]], distributions: Iterable[dict[str, Any]] = ()) -> str:
    """Serialise records as compact DCAT 3 JSON-LD."""
    return to_graph(datasets, distributions).serialize(format="json-ld", context=_context(), indent=2)


def _from_term(graph: Graph, slot: Slot, term: Node) -> Any:
    rdflib = _rdf()
    model = schema()
    rng = slot.range
    if rng in model.classes:
        return _read_node(graph, model.classes[rng], term)
    if isinstance(term, rdflib.Literal):
        if rng == "CompletenessMap":
            try:
                return json.loads(str(term))
            except ValueError:
                return str(term)
        value = term.toPython()
        if rng == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return value if isinstance(value, int | float | bool) and rng == "integer" else str(term)
    text = str(term)
    if rng in model.enums and model.enum_uris.get(rng):
        for prefix, namespace in model.prefixes.items():
            if namespace == model.enum_uris[rng] and text.startswith(namespace):
                return f"{prefix}:{text[len(namespace):]}"
    if rng == "OrganisationValues" and text.startswith(GOVUK_ORGANISATION):
        return text[len(GOVUK_ORGANISATION):]
    return text


def _read_node(graph: Graph, cls: ClassDef, node: Node) -> dict[str, Any]:
    rdflib = _rdf()
    model = schema()
    record: dict[str, Any] = {}
    for name, slot in cls.slots.items():
        if slot.designates_type:
            if cls.class_uri and (node, rdflib.RDF.type, rdflib.URIRef(model.expand(cls.class_uri))) in graph:
                record[name] = cls.class_uri
            continue
        objects = list(graph.objects(node, rdflib.URIRef(model.slot_uri(slot))))
        if not objects:
            continue
        if slot.multivalued and slot.ordered and len(objects) == 1:
            items = list(rdflib.collection.Collection(graph, objects[0]))
            record[name] = [_from_term(graph, slot, item) for item in items]
        elif slot.multivalued:
            record[name] = [_from_term(graph, slot, item) for item in objects]
        elif len(objects) == 1:
            record[name] = _from_term(graph, slot, objects[0])
        else:  # let validation name the field
            record[name] = [_from_term(graph, slot, item) for item in objects]
    return record


def _remote_context(tree: Any) -> Any:
    """The first @context (or @import) in a JSON-LD document that names a document elsewhere rather than being
    written inline, or None. rdflib would fetch it, from a URL or a local file, inside the service."""
    if isinstance(tree, list):
        return next((found for item in tree if (found := _remote_context(item)) is not None), None)
    if not isinstance(tree, dict):
        return None
    for key, value in tree.items():
        if key in ("@context", "@import"):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    return item
        found = _remote_context(value)
        if found is not None:
            return found
    return None


def from_jsonld(text: str, *, source: str = "JSON-LD") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse DCAT JSON-LD into validated (datasets, distributions) records; refuse malformed input."""
    rdflib = _rdf()
    model = schema()
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"{source} is not valid JSON: {exc}. Nothing was imported.", field="json") from None
    try:
        remote = _remote_context(tree)
    except RecursionError:
        raise InvalidInput(f"{source} is nested too deeply. Nothing was imported.", field="json-ld") from None
    if remote is not None:
        raise InvalidInput(f"{source} refers to a context elsewhere ({str(remote)[:80]!r}); give the @context inline "
                           "as a JSON object: the workbench never fetches a context from a URL or a file. Nothing "
                           "was imported.", field="json-ld")
    graph = rdflib.Graph()
    try:
        graph.parse(data=text, format="json-ld")
    except Exception as exc:  # rdflib raises many types for bad JSON-LD
        raise InvalidInput(f"{source} is not valid JSON-LD: {exc}. Nothing was imported.",
                           field="json-ld") from None
    found: dict[str, list[dict[str, Any]]] = {"Dataset": [], "Distribution": []}
    problems: list[tuple[str, str]] = []
    for kind in found:
        cls = model.classes[kind]
        uri = model.expand(cls.class_uri)  # type: ignore[arg-type]  # Dataset and Distribution have one
        subjects = sorted(graph.subjects(rdflib.RDF.type, rdflib.URIRef(uri)), key=str)
        for subject in subjects:
            record = _read_node(graph, cls, subject)
            label = f"{source} {kind} {record.get('identifier') or subject}"
            try:
                found[kind].append(validate(record, kind, source=label))
            except MetadataInvalid as exc:
                problems.extend((f"{label} {field}", message) for field, message in exc.problems)
    if problems:
        listed = "; ".join(f"{field}: {message}" for field, message in problems)
        raise MetadataInvalid(f"{source} has records that are not valid: {listed}. Nothing was imported.",
                              field=problems[0][0], problems=problems)
    if not found["Dataset"] and not found["Distribution"]:
        raise InvalidInput(f"{source} holds no dcat:Dataset or dcat:Distribution; nothing was imported.",
                           field="json-ld")
    return found["Dataset"], found["Distribution"]
