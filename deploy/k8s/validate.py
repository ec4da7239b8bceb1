#!/usr/bin/env python3
"""Validates Kubernetes manifests offline against the Kubernetes API schema, as the official
`kubernetes` Python client models it: every object's kind must be known, every field must
exist in its model (unknown fields are errors, as `kubectl apply --validate=strict` makes
them), every value must have the field's type, and required fields must be present.

    python3 deploy/k8s/validate.py manifests.yaml     # exit 0: valid; 1: errors; 2: no client

Exit 2 (with the reason) when the `kubernetes` package is not installed:
`pip install kubernetes`.
"""
import re
import sys

try:
    import kubernetes.client as k8s
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"skip: the kubernetes Python client is not installed ({e}); pip install kubernetes")
    sys.exit(2)

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object,
              "datetime": str, "date": str}


def model_class(api_version, kind):
    group_version = api_version.split("/")[-1]
    name = "V1" + kind if group_version == "v1" else group_version.capitalize() + kind
    cls = getattr(k8s, name, None)
    if cls is None:
        raise ValueError(f"unknown kind {api_version} {kind}")
    return cls


def check(value, type_name, path, errors):
    if value is None:
        return
    m = re.fullmatch(r"(?:list|List)\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            check(v, m.group(1), f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        inner = m.group(1) or m.group(2)
        for k, v in value.items():
            check(v, inner, f"{path}.{k}", errors)
        return
    if type_name in PRIMITIVES:
        want = PRIMITIVES[type_name]
        if type_name == "int" and isinstance(value, bool):
            errors.append(f"{path}: expected int, got bool")
        elif not isinstance(value, want):
            errors.append(f"{path}: expected {type_name}, got {type(value).__name__}")
        return
    cls = getattr(k8s, type_name, None)
    if cls is None:
        errors.append(f"{path}: unknown type {type_name}")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({type_name}), got {type(value).__name__}")
        return
    fields = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in fields:
            errors.append(f"{path}.{key}: no such field in {type_name}")
            continue
        check(v, cls.openapi_types[fields[key]], f"{path}.{key}", errors)
    # required fields: the model's constructor refuses None for them
    try:
        cls(**{fields[k]: v for k, v in value.items() if k in fields})
    except ValueError as e:
        errors.append(f"{path}: {e}")
    except TypeError:
        pass


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(64)
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    errors = []
    for i, doc in enumerate(docs):
        where = f"document {i + 1} ({doc.get('kind', '?')} {doc.get('metadata', {}).get('name', '?')})"
        try:
            cls = model_class(doc.get("apiVersion", ""), doc.get("kind", ""))
        except ValueError as e:
            errors.append(f"{where}: {e}")
            continue
        check(doc, cls.__name__, where, errors)
    for e in errors:
        print(e)
    print(f"{len(docs)} objects, {len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
