"""
Cross-check of linscope eval's prompts against lm-evaluation-harness's own task files.

Renders each task's YAML (doc_to_text / doc_to_target / doc_to_choice through Jinja2 with the
harness's settings, `!function` entries through the task's own utils.py) on the documents logged
in samples_<task>.jsonl, rebuilds the requests the harness would send (" " target delimiter,
"\n\n" between few-shot examples, random.Random(1234) sampling with the harness's rule for
dropping the evaluated document), and counts mismatches with the logged requests.

    python3 bench/eval-prompts-crosscheck.py <harness checkout>/lm_eval/tasks <samples dir> [k] [pools.json]

pools.json (k > 0): {task: [few-shot split documents]}; dump it with linscope's task
definitions. Needs PyYAML and Jinja2; it reads the harness's files, it does not import the harness.
"""
import json, os, sys, ast, yaml, importlib.util, random
from jinja2 import Environment, BaseLoader, StrictUndefined
env = Environment(loader=BaseLoader, undefined=StrictUndefined, keep_trailing_newline=True)
class L(yaml.SafeLoader): pass
def fn(loader, node):
    return ('fn', loader.construct_scalar(node))
L.add_constructor('!function', fn)
TASKS_DIR = sys.argv[1]
def load(p):
    return yaml.load(open(os.path.join(TASKS_DIR, p)), Loader=L)
def mod(path):
    spec = importlib.util.spec_from_file_location('m'+str(abs(hash(path))), path); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
tasks = {'arc_easy':'arc/arc_easy.yaml','arc_challenge':'arc/arc_easy.yaml','piqa':'piqa/piqa.yaml','winogrande':'winogrande/default.yaml','lambada_openai':'lambada/lambada_openai.yaml','openbookqa':'openbookqa/openbookqa.yaml','boolq':'super_glue/boolq/default.yaml','cb':'super_glue/cb/default.yaml','copa':'super_glue/copa/default.yaml','rte':'glue/rte/default.yaml','sglue_rte':'super_glue/rte/default.yaml','wic':'super_glue/wic/default.yaml','multirc':'super_glue/multirc/default.yaml','xstorycloze_en':'xstorycloze/default_ar.yaml','truthfulqa_mc1':'truthfulqa/truthfulqa_mc1.yaml','truthfulqa_mc2':'truthfulqa/truthfulqa_mc2.yaml'}
def field(cfg, key, doc, yamlpath):
    v = cfg[key]
    if isinstance(v, tuple):
        modname, f = v[1].split('.')
        return getattr(mod(os.path.join(TASKS_DIR, os.path.dirname(yamlpath), modname + '.py')), f)(doc)
    if isinstance(v, (int, list)): return v
    if v in doc: return doc[v]
    s = env.from_string(v).render(**doc)
    if key == 'doc_to_choice': return ast.literal_eval(s)
    if s.isdigit(): return ast.literal_eval(s)
    return s
def requests(cfg, doc, ctxprefix, yp):
    text = field(cfg, 'doc_to_text', doc, yp); target = field(cfg, 'doc_to_target', doc, yp)
    if cfg['output_type'] == 'loglikelihood': return [(ctxprefix + text, target)]
    choices = field(cfg, 'doc_to_choice', doc, yp)
    if isinstance(text, int): return [(ctxprefix + c, ' ' + target) for c in choices]
    return [(ctxprefix + text, ' ' + c) for c in choices]
def example(cfg, doc, yp):
    text = field(cfg, 'doc_to_text', doc, yp); target = field(cfg, 'doc_to_target', doc, yp)
    choices = field(cfg, 'doc_to_choice', doc, yp) if cfg.get('doc_to_choice') is not None else None
    if isinstance(text, int): return choices[text] + ' ' + target + '\n\n'
    ans = choices[target] if (choices and isinstance(target, int)) else target
    return text + ' ' + ans + '\n\n'
outdir = sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
pools = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else {}
for name, yp in tasks.items():
    try: lines = [json.loads(l) for l in open(f'{outdir}/samples_{name}.jsonl')]
    except FileNotFoundError: continue
    own = load(yp)
    cfg = {**(load(os.path.join(os.path.dirname(yp), own['include'])) if 'include' in own else {}), **own}
    rnd = random.Random(1234); bad = 0
    for s in lines:
        prefix = ''
        if k > 0:
            pool = pools[name]
            if cfg.get('test_split') is None:
                shots = [x for x in rnd.sample(pool, k + 1) if x != s['doc']][:k]
            else: shots = rnd.sample(pool, k)
            prefix = ''.join(example(cfg, d, yp) for d in shots)
        want = requests(cfg, s['doc'], prefix, yp)
        got = [(a['arg_0'], a['arg_1']) for a in s['arguments'].values()]
        if want != got:
            bad += 1
            if bad == 1: print(name, 'MISMATCH', repr(want[0])[:300], '\n   got', repr(got[0])[:300])
    print(name, len(lines), 'docs,', bad, 'mismatches')
