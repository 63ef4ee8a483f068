"""ApplicationSets expanded offline (gitops_analysis.render.appsets).

Expectations come from Argo CD, never from our output:

- ``tests/fixtures/appsets/expected.json``: worked out by hand from the controller's source
  (see ``docs/notes/applicationsets.md``);
- the tables marked "Argo CD's own test" are copied from Argo CD's unit tests
  (``applicationset/utils/utils_test.go`` at 37ee0097), expected values included;
- the rest are single rules read from the source, each cited where it is tested.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from gitops_analysis.core.errors import InputError
from gitops_analysis.load.clusters import ClusterSecret, load_cluster_secrets
from gitops_analysis.load.yaml_reader import read_documents
from gitops_analysis.render.appsets import ExpandContext, expand, is_application_set
from gitops_analysis.render.appsets.funcs import normalize, slugify
from gitops_analysis.render.appsets.gitrepo import ls_files, path_match, walk_directories
from gitops_analysis.render.appsets.gotemplate import fast_render, go_params, go_render
from gitops_analysis.render.appsets.model import AppSetError, OfflineGap
from gitops_analysis.render.appsets.template import render_application
from gitops_analysis.render.repositories import url_key

FIXTURES = Path(__file__).parent / "fixtures" / "appsets"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
REPO_URL = "https://git.example.com/fixture-org/appsets.git"
CASES = sorted(EXPECTED["appsets"])


def _context(**kw) -> ExpandContext:
    base = {"repos": {url_key(REPO_URL): str(FIXTURES / "repo")},
            "clusters": load_cluster_secrets(FIXTURES / "clusters.yaml"),
            "projects": frozenset({"default"})}
    base.update(kw)
    return ExpandContext(**base)


def _appset(path: str | Path):
    docs, _, problem = read_documents(FIXTURES / path, str(path))
    assert problem is None and len(docs) == 1 and docs[0].error is None
    return docs[0]


def _expand(case: str, **kw):
    doc = _appset(EXPECTED["appsets"][case]["file"])
    return expand(doc.data, EXPECTED["appsets"][case]["file"], doc.line, _context(**kw))


def _summary(app) -> dict:
    """The fields expected.json states, with its convention: an unset string is ""."""
    spec = app.manifest["spec"]
    src, dest = spec.get("source", {}), spec.get("destination", {})
    return {"name": app.name, "namespace": app.namespace, "project": spec.get("project", ""),
            "source": {k: src.get(k, "") for k in ("repoURL", "path", "targetRevision")},
            "destination": {k: dest.get(k, "") for k in ("server", "name", "namespace")}}


# --- the hand-made fixtures -----------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_fixture_applications(case):
    want = EXPECTED["appsets"][case]
    result = _expand(case)
    if want["applications"] is None:
        assert result.applications is None
        assert not result.complete
    else:
        assert result.applications is not None
        got = [_summary(a) for a in result.applications]
        strip = [{k: v for k, v in w.items() if k != "syncPolicy"} for w in want["applications"]]
        assert got == strip
    got_error = None if result.condition is None else {
        "type": result.condition.type, "reason": result.condition.reason,
        "message": result.condition.message}
    assert got_error == want["error"]


@pytest.mark.parametrize("case", [c for c in CASES if "params" in EXPECTED["appsets"][c]])
def test_fixture_parameters(case):
    want = EXPECTED["appsets"][case]["params"]
    result = _expand(case)
    got = [_plain(p) for p in _all_params(result)]

    def key(params):
        return json.dumps(params, sort_keys=True)
    assert sorted(got, key=key) == sorted(want, key=key)


def _all_params(result):
    # every parameter set, including those of Applications left out by validation
    return [a.params for a in (result.applications or []) + result.skipped]


def _plain(value):
    """Parameters as JSON has them (a Go []string, a tuple here, is a list)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def test_template_patch_sync_policy_and_project():
    want = {a["name"]: a["syncPolicy"] for a in EXPECTED["appsets"]["template-patch"]
            ["applications"]}
    result = _expand("template-patch")
    got = {a.name: a.manifest["spec"].get("syncPolicy") for a in result.applications}
    assert got == want
    assert {a.manifest["spec"]["project"] for a in result.applications} == {"default"}


def test_new_git_file_globbing():
    want = EXPECTED["appsets"]["git-files-greedy-glob"]["applications_with_new_git_file_globbing"]
    result = _expand("git-files-greedy-glob", new_git_file_globbing=True)
    assert [a.name for a in result.applications] == want


def test_unsupported_generator_message():
    offline = EXPECTED["appsets"]["unsupported-pull-request"]["offline"]
    result = _expand("unsupported-pull-request")
    assert [(g.generator, g.message) for g in result.gaps] == \
        [(offline["generator"], offline["message"])]


def test_generated_application_shape():
    # template.go: the namespace is the ApplicationSet's; utils.go: the resources finalizer
    result = _expand("list-elements")
    app = result.applications[0].manifest
    assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application"
    assert app["metadata"]["namespace"] == "argocd"
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert app["metadata"]["ownerReferences"][0]["name"] == "list-elements"


def test_same_input_same_output_bytes():
    def dump():
        out = {}
        for case in CASES:
            r = _expand(case)
            out[case] = [[a.manifest, _plain(a.params)] for a in r.applications or []]
        return json.dumps(out, sort_keys=True).encode()
    assert dump() == dump()


def test_whole_folder_names_are_unique():
    # README of the fixtures: generated names are unique across all the ApplicationSets
    names = []
    for case in CASES:
        names += [a.name for a in _expand(case).applications or []]
    assert len(names) == len(set(names)) > 30


# --- Argo CD's own tests: Go templates ------------------------------------------------------

# applicationset/utils/utils_test.go TestRenderTemplateParamsGoTemplate (field, params,
# expected value or error message, options)
GO_TABLE = [
    ("{{ .one }}", {"one": "two"}, "two", None, []),
    ("{{ .one }}", {"one": "{{one}}"}, "{{one}}", None, []),
    ("{{ .one }}", {"one": "{{two}}"}, "{{two}}", None, []),
    ("{{.one}}{{.one}}", {"one": "two"}, "twotwo", None, []),
    ("{{.one}}{{.three}}", {"one": "two", "three": "four"}, "twofour", None, []),
    ("{{.one}} {{.three}}", {"one": '"hello" world', "three": "four"}, '"hello" world four',
     None, []),
    ("{{ .image.version }}", {"replicas": 3, "image": {"name": "busybox", "version": "latest"}},
     "latest", None, []),
    ("{{ .image.name }}:{{ .image.version }}",
     {"replicas": 3, "image": {"name": "busybox", "version": "latest"}}, "busybox:latest",
     None, []),
    ("{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}",
     {"replicas": 3, "hpa": {"enabled": True, "minReplicas": 1, "maxReplicas": 5}}, "5", None, []),
    ("{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}",
     {"replicas": 3, "hpa": {"enabled": False, "minReplicas": 1, "maxReplicas": 5}}, "3", None,
     []),
    ("{{ range .volumes }}[{{ .name }}]{{ end }}",
     {"replicas": 3, "volumes": [{"name": "volume-one", "emptyDir": {}},
                                 {"name": "volume-two", "emptyDir": {}}]},
     "[volume-one][volume-two]", None, []),
    ('{{ index .admin "admin-ca" }}, {{ index .admin "admin-jks" }}',
     {"admin": {"admin-ca": "value admin ca", "admin-jks": "value admin jks"}},
     "value admin ca, value admin jks", None, []),
    ('{{ index .admin "admin-ca" }}, \\\\ "Hello world", {{ index .admin "admin-jks" }}',
     {"admin": {"admin-ca": 'value "admin" ca with \\', "admin-jks": "value admin jks"}},
     'value "admin" ca with \\, \\\\ "Hello world", value admin jks', None, []),
    ("{{.quote}}", {"quote": '"'}, '"', None, []),
    ("{{.data}}", {}, "{{.data}}", None, []),
    ("{{functiondoesnotexist}}", {"data": "a data string"}, None,
     "failed to parse template {{functiondoesnotexist}}: template: base:1: function "
     '"functiondoesnotexist" not defined', []),
    ("{{.data.test}}", {"data": "a data string"}, None,
     'failed to execute go template {{.data.test}}: template: base:1:7: executing "base" at '
     "<.data.test>: can't evaluate field test in type interface {}", []),
    ("--> {{.doesnotexist}} <--", {"unused": "this is not used"}, "--> <no value> <--", None, []),
    ("--> {{.doesnotexist}} <--", {"unused": "this is not used"}, None,
     'failed to execute go template --> {{.doesnotexist}} <--: template: base:1:6: executing '
     '"base" at <.doesnotexist>: map has no entry for key "doesnotexist"', ["missingkey=error"]),
    ("{{ toYaml . | indent 2 }}",
     {"foo": {"bar": {"bool": True, "number": 2, "str": "Hello world"}}},
     "  foo:\n    bar:\n      bool: true\n      number: 2\n      str: Hello world", None, []),
    ('{{ get (fromYaml .value) "hello" }}', {"value": "hello: world"}, "world", None, []),
    ('{{ get (fromYaml .value) "hello" }}', {"value": "non\n compliant\n yaml"}, None,
     'failed to execute go template {{ get (fromYaml .value) "hello" }}: template: base:1:8: '
     'executing "base" at <fromYaml .value>: error calling fromYaml: error unmarshaling JSON: '
     "while decoding JSON: json: cannot unmarshal string into Go value of type "
     "map[string]interface {}", []),
    ("{{ fromYamlArray .value | last }}", {"value": "- hello world\n- bonjour tout le monde"},
     "bonjour tout le monde", None, []),
    ("{{ fromYamlArray .value | last }}", {"value": "non\n compliant\n yaml"}, None,
     'failed to execute go template {{ fromYamlArray .value | last }}: template: base:1:3: '
     'executing "base" at <fromYamlArray .value>: error calling fromYamlArray: error '
     "unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of "
     "type []interface {}", []),
]


def _template(value: str) -> dict:
    return {"metadata": {"name": "application-one", "namespace": "default",
                         "labels": {"label-key": "label-value"},
                         "annotations": {"annotation-key": "annotation-value"}},
            "spec": {"project": value, "source": {"path": value, "repoURL": value,
                                                  "targetRevision": value, "chart": value},
                     "destination": {"server": value, "namespace": value, "name": value}}}


@pytest.mark.parametrize("field,params,value,error,options", GO_TABLE)
def test_argocd_go_template_table(field, params, value, error, options):
    mode = "error" if "missingkey=error" in options else "default"
    tpl = _template(field)
    try:
        app = render_application(tpl, go_params(params), True, mode, False)
    except AppSetError as exc:
        assert exc.message == error
        return
    assert error is None
    spec = app["spec"]
    for got in [spec["project"], *spec["source"].values(), *spec["destination"].values()]:
        assert got == value
    assert app["metadata"]["name"] == "application-one"
    assert app["metadata"]["labels"] == {"label-key": "label-value"}


# applicationset/utils/utils_test.go TestRenderTemplateParams (fasttemplate)
FAST_TABLE = [
    ("{{one}}", {"one": "two"}, "two"),
    ("{{ one }}", {"one": "two"}, "two"),
    ("{{one}}", {"one": "{{one}}"}, "{{one}}"),
    ("{{one}}", {"one": "{{two}}"}, "{{two}}"),
    ("{{one}}{{one}}", {"one": "two"}, "twotwo"),
    ("{{one}}{{three}}", {"one": "two", "three": "four"}, "twofour"),
    ("{{one}} {{three}}", {"one": '"hello" world', "three": "four"}, '"hello" world four'),
]


@pytest.mark.parametrize("field,params,value", FAST_TABLE)
def test_argocd_fasttemplate_table(field, params, value):
    assert fast_render(field, params) == value


def test_argocd_template_keys():
    # TestRenderTemplateKeys: map keys are templated too
    fast = {"metadata": {"annotations": {"annotation-{{key}}": "annotation-{{value}}"}}}
    go = {"metadata": {"annotations": {"annotation-{{ .key }}": "annotation-{{ .value }}"}}}
    params = {"key": "some-key", "value": "some-value"}
    for tpl, use_go in ((fast, False), (go, True)):
        app = render_application(tpl, params, use_go, "default", False)
        assert app["metadata"]["annotations"] == {"annotation-some-key": "annotation-some-value"}


def test_argocd_missing_closing_brace_is_an_error():
    # Test_Render_Replace_no_panic_on_missing_closing_brace
    with pytest.raises(AppSetError):
        fast_render("{{properly.closed}} {{improperly.closed}", {})


def test_argocd_finalizers():
    # TestRenderTemplateParamsFinalizers: kept when the template has some; none added when
    # syncPolicy.preserveResourcesOnDeletion is true
    tpl = {"metadata": {"finalizers": ["existing-finalizer"]}, "spec": {}}
    assert render_application(tpl, {"a": "b"}, False, "default", False)["metadata"][
        "finalizers"] == ["existing-finalizer"]
    bare = {"metadata": {"name": "x"}, "spec": {}}
    assert "finalizers" not in render_application(bare, {"a": "b"}, False, "default",
                                                  True)["metadata"]


# applicationset/utils/utils_test.go TestSlugify
@pytest.mark.parametrize("branch,smart,length,want", [
    ("feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening"
     "_feature", False, 50, "feat-a-really-long-pull-request-name-to-test-argo"),
    ("feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening"
     "_feature", True, 53, "feat-a-really-long-pull-request-name-to-test-argo"),
    ("feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature",
     True, 50, "feat"),
    ("feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature",
     False, 50, "feat-areallylongpullrequestnametotestargoslugifica"),
])
def test_argocd_slugify(branch, smart, length, want):
    assert slugify(length, smart, branch) == want


def test_normalize():
    # template_functions.go SanitizeName
    assert normalize("Prod_EU") == "prod-eu"
    assert normalize("-.My.App_1.-") == "my.app-1"
    assert normalize("x" * 300) == "x" * 253


# --- Go semantics that matter, from the notes (checked against Go by the research) -----------

@pytest.mark.parametrize("source,params,want", [
    ("{{ .n }}", {"n": 1200000}, "1.2e+06"),   # float64 printed by %v
    ("{{ .n }}", {"n": 999999}, "999999"),
    ("{{ .n }}", {"n": 1.5}, "1.5"),
    ("{{ .m }}", {"m": {"b": 1, "a": "k"}}, "map[a:k b:1]"),
    ("{{ .l }}", {"l": ["a", "b"]}, "[a b]"),
    ('{{ index .m "missing" }}', {"m": {}}, "<no value>"),
    ('{{ dig "nameSuffix" "" . }}', {}, ""),
    ("{{ .key.components | toJson }}", {"key": {"components": ["a", 1]}}, '["a",1]'),
])
def test_go_semantics(source, params, want):
    assert go_render(source, go_params(params), "default") == want


def test_missing_key_error_inside_a_pipeline():
    # missingkey=error fails inside a pipeline too (hence the docs' dig); Go places a chain's
    # error at its second field: base:1:10 for `.env`
    with pytest.raises(AppSetError) as err:
        go_render('{{ .values.env | default "dev" }}', {"values": {}}, "error")
    assert err.value.message.endswith(
        'template: base:1:10: executing "base" at <.values.env>: map has no entry for key "env"')


@pytest.mark.parametrize("source", ['{{ env "HOME" }}', '{{ expandenv "$HOME" }}',
                                    '{{ getHostByName "example.com" }}', '{{ required "x" .a }}',
                                    '{{ include "x" . }}', '{{ lookup "v1" "Pod" "" "" }}'])
def test_functions_argocd_does_not_have(source):
    with pytest.raises(AppSetError, match=r"template: base:1: function \".*\" not defined"):
        go_render(source, {}, "default")


def test_templates_are_data_not_code():
    # no Python attribute or method of a value is reachable: Go has none on a string either
    with pytest.raises(AppSetError, match="can't evaluate field upper"):
        go_render("{{ .s.upper }}", {"s": "abc"}, "default")
    with pytest.raises(AppSetError):
        go_render("{{ .s.__class__ }}", {"s": "abc"}, "error")


@pytest.mark.parametrize("source", ["{{ now }}", '{{ randAlpha 5 }}', "{{ uuidv4 }}",
                                    '{{ date "2006" 0 }}'])
def test_unpredictable_functions_are_gaps(source):
    with pytest.raises(OfflineGap, match="changes from one reconcile"):
        go_render(source, {}, "default")


@pytest.mark.parametrize("source", ["{{ range until 100000000 }}x{{ end }}",
                                    '{{ repeat 100000000 "x" }}', '{{ printf "%100000000d" 1 }}'])
def test_runaway_templates_are_bounded(source):
    with pytest.raises(OfflineGap, match="limit of the offline expansion"):
        go_render(source, {}, "default")


def test_fasttemplate_leaves_what_it_cannot_fill():
    # utils.go Replace: a missing key, or a value that is not a string, leaves the tag as is
    assert fast_render("a-{{ missing }}-{{n}}", {"n": 1.0}) == "a-{{ missing }}-{{n}}"
    assert fast_render("{{x}}\n}}", {"x": "y"}) == "y\n}}"


# --- generators, combinations, errors ---------------------------------------------------------

def _spec(generators, template=None, go=True, **extra):
    tpl = template or {"metadata": {"name": "{{.name}}" if go else "{{name}}"},
                       "spec": {"project": "default",
                                "source": {"repoURL": REPO_URL, "path": "apps/guestbook"},
                                "destination": {"server": "https://kubernetes.default.svc",
                                                "namespace": "x"}}}
    spec = {"goTemplate": go, "generators": generators, "template": tpl, **extra}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "t", "namespace": "argocd"}, "spec": spec}


def _run(data, **kw):
    return expand(data, "t.yaml", 1, _context(**kw))


def test_matrix_fasttemplate_duplicate_key():
    # map.go CombineStringMaps
    data = _spec([{"matrix": {"generators": [
        {"list": {"elements": [{"name": "a"}]}}, {"list": {"elements": [{"name": "b"}]}}]}}],
        go=False)
    result = _run(data)
    assert result.applications == []
    assert result.condition.message == (
        "failed to combine string maps with merging params for the matrix generator: found "
        "duplicate key name with different value, a: a ,b: b")


def test_matrix_first_child_wins_in_go_template():
    # matrix.go: mergo.Merge(tmp, b) then mergo.Merge(tmp, a), both with override
    data = _spec([{"matrix": {"generators": [
        {"list": {"elements": [{"name": "first", "x": {"a": "1"}}]}},
        {"list": {"elements": [{"name": "second", "x": {"b": "2"}}]}}]}}])
    [app] = _run(data).applications
    assert app.name == "first" and app.params["x"] == {"a": "1", "b": "2"}


def test_merge_errors():
    # merge.go
    no_keys = _spec([{"merge": {"generators": [{"list": {"elements": [{"name": "a"}]}},
                                               {"list": {"elements": [{"name": "a"}]}}]}}])
    assert _run(no_keys).condition.message == (
        "error getting param sets by merge key: no merge keys were specified, Merge requires at "
        "least one")
    dup = _spec([{"merge": {"mergeKeys": ["name"], "generators": [
        {"list": {"elements": [{"name": "a"}, {"name": "a"}]}},
        {"list": {"elements": [{"name": "a"}]}}]}}])
    assert _run(dup).condition.message == (
        "error getting param sets by merge key: the parameters from a generator were not unique "
        "by the given mergeKeys, Merge requires all param sets to be unique. Duplicate key was "
        '{"name":"a"}')
    one = _spec([{"merge": {"mergeKeys": ["name"], "generators": [
        {"list": {"elements": [{"name": "a"}]}}]}}])
    assert _run(one).condition.message == \
        "found less than two generators, Merge requires two or more"


def test_bad_selector_operator():
    # selector.go LabelSelectorAsSelector, wrapped by Transform
    data = _spec([{"list": {"elements": [{"name": "a"}]},
                   "selector": {"matchExpressions": [{"key": "name", "operator": "Gt",
                                                      "values": ["1"]}]}}])
    assert _run(data).condition.message == \
        'error parsing label selector: "Gt" is not a valid pod selector operator'


def test_project_that_does_not_exist():
    # controller.go validateGeneratedApplications
    tpl = {"metadata": {"name": "{{.name}}"},
           "spec": {"project": "{{.project}}", "destination": {
               "server": "https://kubernetes.default.svc", "namespace": "x"}}}
    data = _spec([{"list": {"elements": [{"name": "a", "project": "default"},
                                         {"name": "b", "project": "ghost"},
                                         {"name": "c", "project": "ghost2"}]}}], tpl)
    result = _run(data)
    assert [a.name for a in result.applications] == ["a"]
    assert result.condition.reason == "ApplicationValidationError"
    assert result.condition.message == \
        "application references project ghost2 which does not exist (and 1 more)"


def test_unknown_destination_with_clusters():
    # util/argo/argo.go GetDestinationCluster, util/db/cluster.go
    tpl = {"metadata": {"name": "{{.name}}"},
           "spec": {"project": "default", "destination": {"server": "{{.server}}"}}}
    data = _spec([{"list": {"elements": [{"name": "a", "server": "https://nowhere.example.com"}]}}],
                 tpl)
    result = _run(data)
    assert result.applications == []
    assert result.condition.message == (
        'application destination spec is invalid: error getting cluster by server '
        '"https://nowhere.example.com": rpc error: code = NotFound desc = cluster '
        '"https://nowhere.example.com" not found')


def test_clusters_without_secrets_is_a_gap():
    data = _spec([{"clusters": {}}])
    result = _run(data, clusters=None)
    assert result.applications is None and result.gaps[0].generator == "clusters"
    assert "--clusters FILE" in result.gaps[0].message


def test_repository_not_here_is_a_gap():
    data = _spec([{"git": {"repoURL": "https://elsewhere.example.com/x.git", "revision": "main",
                           "directories": [{"path": "*"}]}}])
    result = _run(data)
    assert result.applications is None
    assert "--repo-map https://elsewhere.example.com/x.git=DIR" in result.gaps[0].message


def test_partial_expansion_keeps_what_is_known():
    data = _spec([{"list": {"elements": [{"name": "known"}]}},
                  {"plugin": {"configMapRef": {"name": "cm"}}}])
    result = _run(data)
    assert [a.name for a in result.applications] == ["known"] and not result.complete


def test_unrecognized_generator_is_only_logged():
    # utils.go CheckInvalidGenerators: logged, the entry generates nothing
    data = _spec([{"lists": {"elements": [{"name": "a"}]}}])
    result = _run(data)
    assert result.applications == [] and result.condition is None
    assert result.warnings == ["ApplicationSet t contains unrecognized generators: lists"]


def test_git_generator_needs_its_project():
    # git.go GenerateParams reads the AppProject named by the template
    doc = _appset("repo/appsets/git-directories.yaml")
    result = expand(doc.data, "x", 1, _context(projects=frozenset({"other"})))
    assert result.condition.message == (
        'error getting project default: appprojects.argoproj.io "default" not found')


def test_rolling_sync_steps():
    # progressive_sync.go buildAppDependencyList: the first step whose matchExpressions select
    # the Application's labels; a missing label fails In only
    steps = [{"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]},
             {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}],
              "maxUpdate": "10%"}]
    tpl = {"metadata": {"name": "{{.name}}", "labels": {"env": "{{.env}}"}},
           "spec": {"project": "default", "destination": {
               "server": "https://kubernetes.default.svc", "namespace": "x"}}}
    unlabelled = {"metadata": {"name": "bare"}, "spec": tpl["spec"]}
    data = _spec([{"list": {"elements": [{"name": "a", "env": "dev"},
                                         {"name": "b", "env": "prod"}]}},
                  {"list": {"elements": [{"name": "c"}], "template": unlabelled}}], tpl,
                 strategy={"type": "RollingSync", "rollingSync": {"steps": steps}})
    result = _run(data)
    assert result.rolling_steps == steps
    assert {a.name: a.rolling_step for a in result.applications} == \
        {"a": 0, "b": 1, "bare": 1}


def test_unknown_go_template_option():
    # text/template Option panics; the reconcile recovers and sets no condition
    data = _spec([{"list": {"elements": [{"name": "a"}]}}], goTemplateOptions=["missingkey=oops"])
    result = _run(data)
    assert result.applications == [] and result.condition.type == ""
    assert "unrecognized option: missingkey=oops" in result.condition.message


def test_input_is_not_changed():
    doc = _appset("repo/appsets/matrix-git-list.yaml")
    before = copy.deepcopy(doc.data)
    expand(doc.data, "x", 1, _context())
    assert doc.data == before
    assert is_application_set(doc.data)


# --- the repository as the Git generator sees it ---------------------------------------------

def test_directories_walk():
    dirs = walk_directories(str(FIXTURES / "repo"))
    assert "apps/.wip" not in dirs and "apps/reports/jobs" in dirs
    assert dirs.index("apps") < dirs.index("apps/billing_api") < dirs.index("apps/guestbook")
    assert "apps/.wip" in walk_directories(str(FIXTURES / "repo"), include_hidden=True)


@pytest.mark.parametrize("pattern,name,match", [
    ("apps/*", "apps/guestbook", True), ("apps/*", "apps/reports/jobs", False),
    ("apps/[bg]*", "apps/guestbook", True), ("apps/[^b]*", "apps/billing_api", False),
    ("apps/[!b]*", "apps/billing_api", True),  # Go negates with ^ only: [!b] is '!' or 'b'

    ("apps/**", "apps/reports/jobs", False), ("apps/[", "apps/[", False),
])
def test_go_path_match(pattern, name, match):
    assert path_match(pattern, name) is match


def test_git_ls_files_pathspec():
    root = str(FIXTURES / "repo")
    assert ls_files(root, "config/teams/*/team.yaml") == [
        "config/teams/alpha/team.yaml", "config/teams/beta/archive/team.yaml",
        "config/teams/beta/team.yaml"]
    assert ls_files(root, "config/teams/*/team.yaml", new_globbing=True) == [
        "config/teams/alpha/team.yaml", "config/teams/beta/team.yaml"]
    assert ls_files(root, "config/teams/**/team.yaml", new_globbing=True) == [
        "config/teams/alpha/team.yaml", "config/teams/beta/archive/team.yaml",
        "config/teams/beta/team.yaml"]
    assert ls_files(root, "config/teams") == ls_files(root, "config/teams/*")


# --- cluster Secrets -------------------------------------------------------------------------

def test_cluster_secrets_file():
    secrets = load_cluster_secrets(FIXTURES / "clusters.yaml")
    by_name = {s.secret_name: s for s in secrets}
    assert by_name["cluster-prod-us"].data == {"name": "prod-us",
                                               "server": "https://prod-us.k8s.example.com"}
    assert by_name["cluster-prod-eu"].annotations == {"example.com/owner": "team-platform"}
    assert not by_name["repo-appsets"].is_cluster
    assert "config" not in by_name["cluster-staging"].data  # credentials are not kept


def test_cluster_secrets_as_a_list(tmp_path):
    f = tmp_path / "secrets.yaml"
    f.write_text("apiVersion: v1\nkind: List\nitems:\n"
                 "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: a\n"
                 "    labels: {argocd.argoproj.io/secret-type: cluster}\n"
                 "  stringData: {name: a, server: https://a.example.com}\n"
                 "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n"
                 "  data: {name: '!!notbase64'}\n")
    with pytest.raises(InputError) as err:
        load_cluster_secrets(f)
    assert str(err.value).startswith(f"{f}:10: data.name of Secret b is not base64")


def test_cluster_secret_with_the_in_cluster_server():
    # cluster.go: no in-cluster added when a Secret has https://kubernetes.default.svc
    local = ClusterSecret("local", "argocd", {"argocd.argoproj.io/secret-type": "cluster"}, {},
                          {"name": "local", "server": "https://kubernetes.default.svc"})
    data = _spec([{"clusters": {}}])
    result = _run(data, clusters=[local])
    assert [a.name for a in result.applications] == ["local"]


# --- render: ApplicationSets in a repository, then check ----------------------------------------

def _render(repo, out, **kw):
    from gitops_analysis.render.run import render_repository
    return render_repository(repo, out, repo_map={REPO_URL: str(repo)}, use_cache=False,
                             helm="none", **kw)


def _expected_apps() -> dict[str, dict]:
    out = {}
    for case in CASES:
        for app in EXPECTED["appsets"][case]["applications"] or []:
            out[f"{app['namespace']}/{app['name']}"] = app
    return out


@pytest.fixture(scope="module")
def fixture_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("appsets") / "ds"
    report = _render(FIXTURES / "repo", out, clusters=FIXTURES / "clusters.yaml")
    return report, out


def test_render_generates_the_expected_applications(fixture_dataset):
    from gitops_analysis import load_dataset
    report, out = fixture_dataset
    want = _expected_apps()
    assert [a.name for a in report.apps] == sorted(want)
    assert all(a.status == "ok" for a in report.apps)
    ds = load_dataset(out)
    apps = ds.apps.set_index("app")
    for key, app in want.items():
        row = apps.loc[key]
        assert (row["name"], row["app_namespace"], row["project"]) == \
            (app["name"], app["namespace"], app["project"])
        assert row["source_paths"] == (app["source"]["path"],)
        assert (row["destination_server"], row["destination_name"],
                row["destination_namespace"]) == tuple(app["destination"][k] for k in
                                                       ("server", "name", "namespace"))
    by_set = {case: sorted(f"argocd/{a['name']}" for a in c["applications"] or [])
              for case, c in EXPECTED["appsets"].items()}
    for case, keys in by_set.items():
        assert sorted(apps.index[apps["appset"] == f"argocd/{case}"]) == keys
    params = json.loads(apps.loc["argocd/cfg-dev-eu", "appset_params"])
    assert params["path[2]"] == "dev" and params["values.ns"] == "guestbook-dev"


def test_render_reports_conditions_and_gaps(fixture_dataset):
    report, out = fixture_dataset
    status = json.loads((out / "render-status.json").read_text())["appsets"]
    for case, want in EXPECTED["appsets"].items():
        assert status[f"argocd/{case}"]["condition"] == want["error"], case
    gap = status["argocd/unsupported-pull-request"]
    assert not gap["complete"] and gap["gaps"][0]["generator"] == "pullRequest"
    assert report.exit_code == 1  # an ApplicationSet could not be expanded
    lines = report.lines()
    assert any("ApplicationSet argocd/unsupported-pull-request: not expanded offline" in line
               for line in lines)
    assert any(line.startswith("appsets/error-missing-key.yaml:3: ApplicationSet "
                               "argocd/error-missing-key: ErrorOccurred RenderTemplateParamsError")
               for line in lines)


def test_check_runs_on_generated_applications(fixture_dataset, capsys):
    from gitops_analysis.cli.main import main
    _, out = fixture_dataset
    code = main(["check", str(out), "--format", "json"])
    assert code in (0, 1)
    found = json.loads(capsys.readouterr().out)
    assert found  # findings on the generated apps (e.g. namespaces they do not create)


def test_render_twice_same_bytes(tmp_path):
    trees = []
    for name in ("a", "b"):
        _render(FIXTURES / "repo", tmp_path / name, clusters=FIXTURES / "clusters.yaml")
        trees.append({p.relative_to(tmp_path / name).as_posix(): p.read_bytes()
                      for p in sorted((tmp_path / name).rglob("*")) if p.is_file()})
    assert trees[0] == trees[1]


APPSET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: team
spec:
  goTemplate: true
  generators:
  - list:
      elements:
      - env: dev
      - env: prod
  strategy:
    type: RollingSync
    rollingSync:
      steps:
      - matchExpressions: [{key: env, operator: In, values: [dev]}]
      - matchExpressions: [{key: env, operator: In, values: [prod]}]
  template:
    metadata:
      name: 'guestbook-{{.env}}'
      labels: {env: '{{.env}}'}
    spec:
      project: default
      source: {repoURL: %s, path: apps/guestbook, targetRevision: main}
      destination: {server: https://kubernetes.default.svc, namespace: 'gb-{{.env}}'}
"""
ROOT_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
spec:
  project: default
  source: {repoURL: %s, path: bootstrap, targetRevision: main}
  destination: {server: https://kubernetes.default.svc, namespace: argocd}
"""
STRAY_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: old-guestbook
spec:
  project: default
  source: {repoURL: %s, path: apps/guestbook, targetRevision: main}
  destination: {server: https://kubernetes.default.svc, namespace: old}
"""


def _small_repo(tmp_path, with_root: bool):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repo" / "apps" / "guestbook", repo / "apps" / "guestbook")
    (repo / "bootstrap").mkdir()
    (repo / "bootstrap" / "team.yaml").write_text(APPSET % REPO_URL)
    if with_root:
        (repo / "root.yaml").write_text(ROOT_APP % REPO_URL)
    (repo / "attic").mkdir()
    (repo / "attic" / "old.yaml").write_text(STRAY_APP % REPO_URL)
    (repo / "attic" / "old-set.yaml").write_text((APPSET % REPO_URL).replace(
        "name: team", "name: old-team").replace("guestbook-{{.env}}", "old-{{.env}}"))
    return repo


def test_application_set_in_app_of_apps_output(tmp_path):
    # issue 15, item 1: an app may render ApplicationSets; item 5: root.yaml is the root,
    # bootstrap/team.yaml is reached through its output, attic/old.yaml by nothing
    from gitops_analysis import load_dataset
    repo = _small_repo(tmp_path, with_root=True)
    report = _render(repo, tmp_path / "ds")
    assert [a.name for a in report.apps] == ["argocd/guestbook-dev", "argocd/guestbook-prod",
                                             "argocd/root"]
    assert {a.name: a.parent for a in report.apps}["argocd/guestbook-dev"] == "argocd/root"
    assert [(s.name, s.parent) for s in report.appsets] == [("argocd/team", "argocd/root")]
    assert [(u.kind, u.name, u.file) for u in report.unreachable] == \
        [("ApplicationSet", "argocd/old-team", "attic/old-set.yaml"),
         ("Application", "argocd/old-guestbook", "attic/old.yaml")]
    ds = load_dataset(tmp_path / "ds")
    steps = dict(zip(ds.apps["app"], ds.apps["rollout_step"]))
    assert steps == {"argocd/guestbook-dev": 1, "argocd/guestbook-prod": 2, "argocd/root": 0}


def test_without_app_of_apps_every_file_is_a_root(tmp_path):
    # no Application file yields others: every Application and ApplicationSet file is a root
    repo = _small_repo(tmp_path, with_root=False)
    report = _render(repo, tmp_path / "ds")
    assert [a.name for a in report.apps] == ["argocd/guestbook-dev", "argocd/guestbook-prod",
                                             "argocd/old-dev", "argocd/old-guestbook",
                                             "argocd/old-prod"]
    assert report.unreachable == []
    assert (tmp_path / "ds" / "apps" / "guestbook-dev.yaml").is_file()


def test_unreachable_files_are_not_written(tmp_path):
    repo = _small_repo(tmp_path, with_root=True)
    _render(repo, tmp_path / "ds")
    written = sorted(p.name for p in (tmp_path / "ds" / "apps").iterdir())
    assert written == ["guestbook-dev.yaml", "guestbook-prod.yaml", "root.yaml"]


def test_apps_given_explicitly_render_as_given(tmp_path):
    repo = _small_repo(tmp_path, with_root=False)
    report = _render(repo, tmp_path / "ds", apps_paths=[repo / "attic" / "old.yaml",
                                                        repo / "bootstrap"])
    assert [a.name for a in report.apps] == ["argocd/guestbook-dev", "argocd/guestbook-prod",
                                             "argocd/old-guestbook"]
    assert report.unreachable == []


def test_cli_clusters_file(tmp_path, capsys):
    from gitops_analysis.cli.main import main
    repo = FIXTURES / "repo"
    args = ["render", str(repo), "--out", str(tmp_path / "ds"), "--repo-map",
            f"{REPO_URL}={repo}", "--helm", "none", "--apps", str(repo / "appsets" /
                                                              "cluster-generator.yaml")]
    assert main(args + ["--clusters", str(FIXTURES / "clusters.yaml")]) == 0
    assert "argocd/monitoring-in-cluster: ok" in capsys.readouterr().out
    # without the Secrets the clusters generator is a gap: exit 1, said in the output
    assert main(args) == 1
    # render folds its lines within 120 columns where the path's length decides: joined
    out = " ".join(line.strip() for line in capsys.readouterr().out.splitlines())
    assert "pass them with --clusters FILE" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Secret\nmetadata: {name: x}\ndata: {name: '%%%'}\n")
    assert main(args + ["--clusters", str(bad)]) == 2
    # render folds its lines within 120 columns: continuation lines joined
    assert f"{bad}:1: data.name of Secret x is not base64" in \
        capsys.readouterr().err.replace("\n    ", " ")


def test_loader_says_an_application_set_in_apps_needs_render(tmp_path):
    # the loader (load/) cannot expand (render/ is downstream): it says so, never silently
    from gitops_analysis import load_dataset
    (tmp_path / "apps").mkdir()
    (tmp_path / "rendered").mkdir()
    shutil.copy(FIXTURES / "repo" / "appsets" / "list-elements.yaml", tmp_path / "apps")
    ds = load_dataset(tmp_path)
    assert ds.apps.empty
    messages = list(ds.warnings["reason"])
    assert any("ApplicationSet list-elements: the Applications it generates are not in the "
               "dataset: render the repository with gitops-analysis render" in m
               for m in messages)


def test_two_application_sets_generating_one_application(tmp_path):
    # createOrUpdate.go mutate + controller-runtime: the second ApplicationSet cannot own it
    repo = _small_repo(tmp_path, with_root=False)
    (repo / "bootstrap" / "twin.yaml").write_text((APPSET % REPO_URL).replace(
        "name: team", "name: twin"))
    report = _render(repo, tmp_path / "ds")
    status = {s.name: s for s in report.appsets}
    assert status["argocd/team"].condition is None
    assert status["argocd/twin"].condition == {
        "type": "ErrorOccurred", "reason": "UpdateApplicationError",
        "message": "error while wrapping using MutateFn: Object argocd/guestbook-dev is already "
                   "owned by another ApplicationSet controller team"}
    assert status["argocd/twin"].applications == []


def test_hostile_templates_end_in_a_gap_or_an_error():
    # nothing in the input runs away: huge templates, deep recursion, shared-map mutation
    assert_gap = pytest.raises(OfflineGap)
    with assert_gap:
        go_render("x" * 1_100_000, {}, "default")
    with pytest.raises(OfflineGap):
        go_render('{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}', {},
                  "default")
    params = {"a": {"b": "c"}}
    go_render('{{ set .a "b" "changed" }}', params, "default")
    assert params == {"a": {"b": "c"}}  # Sprig's set cannot reach another string


def test_matrix_size_is_bounded(monkeypatch):
    from gitops_analysis.render.appsets import combine
    monkeypatch.setattr(combine, "MAX_PARAM_SETS", 3)
    data = _spec([{"matrix": {"generators": [
        {"list": {"elements": [{"a": "1"}, {"a": "2"}]}},
        {"list": {"elements": [{"name": "x"}, {"name": "y"}]}}]}}])
    result = _run(data)
    assert result.applications is None and result.gaps[0].generator == "matrix"


def test_an_applicationset_that_generates_nothing_says_so(tmp_path, capsys):
    # a clusters generator whose selector matches none of the cluster Secrets: Argo CD creates
    # no Application and reports nothing; render says it
    from gitops_analysis.cli.main import main
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "set.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: ack, "
        "namespace: argocd}\nspec:\n  generators:\n  - clusters:\n      selector:\n"
        "        matchLabels: {ack: enabled}\n  template:\n    metadata: {name: 'ack-{{name}}'}\n"
        "    spec:\n      project: default\n      source: {repoURL: https://e.com/r.git, "
        "path: ack}\n      destination: {server: '{{server}}', namespace: ack}\n")
    code = main(["render", str(repo), "--out", str(tmp_path / "ds"), "--clusters",
                 str(FIXTURES / "clusters.yaml"), "--helm", "none"])
    out = " ".join(line.strip() for line in capsys.readouterr().out.splitlines())
    assert code == 0
    assert ("set.yaml:1: ApplicationSet argocd/ack: generated no Application: its generators "
            "gave no parameters") in out
