"""imports.py BUILD: the loops among the host program's files, found in
what each object file defines and uses (nm): file A uses a symbol of file B
and B, directly or not, one of A. Prints each loop with the symbols on its
edges, then "N loops"."""
import subprocess, glob, collections, sys
base=sys.argv[1]
objs=glob.glob(base+'/obj/cli/**/*.o',recursive=True)+glob.glob(base+'/obj/embed/*.o')
defs={}; uses=collections.defaultdict(set)
for o in objs:
    out=subprocess.run(['nm',o],capture_output=True,text=True).stdout
    for l in out.splitlines():
        p=l.split()
        if len(p)==3 and p[1] in 'TDRB': defs[p[2]]=o
        elif len(p)==2 and p[0]=='U': uses[o].add(p[1])
g=collections.defaultdict(set)
for o,us in uses.items():
    for u in us:
        if u in defs and defs[u]!=o: g[o].add(defs[u])
short=lambda o:o.replace(base+'/obj/','')
idx={};low={};st=[];on=set();sccs=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in g[v]:
        if w not in idx: sc(w); low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in list(g):
    if v not in idx: sc(v)
for comp in sccs:
    print([short(x) for x in comp])
    for a in comp:
        for b in g[a]:
            if b in comp: print("   ",short(a),"->",short(b), sorted(u for u in uses[a] if defs.get(u)==b)[:5])
print(len(sccs), "loops")
