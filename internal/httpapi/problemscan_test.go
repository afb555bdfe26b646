package httpapi

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/pbudget/pbudget/internal/apperr"
)

// problemScan finds, by reading the source, the problem codes each function of the module can
// return: every apperr.New with a literal code, every &apperr.Error{Code: "..."} literal, and every
// package-level error variable built from them (or from another one, with WithMessage or Wrap),
// in the function or in anything it refers to — functions, methods, closures, method values, and
// every implementation in the module of an interface method it calls. It over-approximates (a
// function that can raise a code in one branch counts), which is what a contract needs.
type problemScan struct {
	module  string
	funcs   map[*types.Func]funcSource
	vars    map[*types.Var]ast.Expr // package-level variables and their initialisers
	varInfo map[*types.Var]*types.Info
	named   []*types.Named // the module's named types, for interface dispatch
	apperrP *types.Package
	memo    map[any]map[string]apperr.Kind
}

type funcSource struct {
	body *ast.BlockStmt
	info *types.Info
}

func newProblemScan(t testing.TB) *problemScan {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo |
			packages.NeedImports | packages.NeedModule,
		Dir: root,
	}
	pkgs, err := packages.Load(cfg, "./internal/...", "./api/...")
	if err != nil {
		t.Fatal(err)
	}
	sc := &problemScan{funcs: map[*types.Func]funcSource{}, vars: map[*types.Var]ast.Expr{}, memo: map[any]map[string]apperr.Kind{}}
	varInfo := map[*types.Var]*types.Info{}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Fatalf("load %s: %v", p.PkgPath, e)
		}
		if p.Module != nil {
			sc.module = p.Module.Path
		}
		if strings.HasSuffix(p.PkgPath, "/internal/apperr") {
			sc.apperrP = p.Types
		}
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if fn, ok := p.TypesInfo.Defs[d.Name].(*types.Func); ok && d.Body != nil {
						sc.funcs[fn] = funcSource{body: d.Body, info: p.TypesInfo}
					}
				case *ast.GenDecl:
					if d.Tok != token.VAR {
						continue
					}
					for _, spec := range d.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, name := range vs.Names {
							if v, ok := p.TypesInfo.Defs[name].(*types.Var); ok && i < len(vs.Values) {
								sc.vars[v] = vs.Values[i]
								varInfo[v] = p.TypesInfo
							}
						}
					}
				}
			}
		}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			if tn, ok := scope.Lookup(name).(*types.TypeName); ok {
				if n, ok := tn.Type().(*types.Named); ok {
					sc.named = append(sc.named, n)
				}
			}
		}
	}
	sc.varInfo = varInfo
	if sc.apperrP == nil {
		t.Fatal("internal/apperr not loaded")
	}
	return sc
}

// codesOf returns the problem codes fn can raise, with their kinds.
func (sc *problemScan) codesOf(fn *types.Func) map[string]apperr.Kind {
	out := map[string]apperr.Kind{}
	sc.visitFunc(fn, out, map[any]bool{})
	return out
}

func (sc *problemScan) visitFunc(fn *types.Func, out map[string]apperr.Kind, seen map[any]bool) {
	fn = fn.Origin()
	if seen[fn] {
		return
	}
	seen[fn] = true
	src, ok := sc.funcs[fn]
	if !ok {
		return
	}
	sc.visitNode(src.body, src.info, out, seen)
}

func (sc *problemScan) visitNode(n ast.Node, info *types.Info, out map[string]apperr.Kind, seen map[any]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sc.isApperr(info, n.Fun, "New") && len(n.Args) >= 2 {
				if code, ok := stringLit(n.Args[1]); ok {
					out[code] = sc.kindOf(info, n.Args[0])
				}
			}
		case *ast.CompositeLit:
			if tv, ok := info.Types[n]; ok && sc.isErrorType(tv.Type) {
				var code string
				kind := apperr.Internal
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch key := kv.Key.(*ast.Ident); {
					case key == nil:
					case key.Name == "Code":
						code, _ = stringLit(kv.Value)
					case key.Name == "Kind":
						kind = sc.kindOf(info, kv.Value)
					}
				}
				if code != "" {
					out[code] = kind
				}
			}
		case *ast.Ident:
			sc.visitObject(info.Uses[n], out, seen)
		}
		return true
	})
}

func (sc *problemScan) visitObject(obj types.Object, out map[string]apperr.Kind, seen map[any]bool) {
	switch o := obj.(type) {
	case *types.Var:
		init, ok := sc.vars[o.Origin()]
		if !ok || seen[o] {
			return
		}
		seen[o] = true
		sc.visitNode(init, sc.varInfo[o.Origin()], out, seen)
	case *types.Func:
		if o.Pkg() == nil || !strings.HasPrefix(o.Pkg().Path(), sc.module) {
			return
		}
		sig, _ := o.Type().(*types.Signature)
		if sig != nil && sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
			iface, _ := sig.Recv().Type().Underlying().(*types.Interface)
			for _, n := range sc.named {
				for _, t := range []types.Type{n, types.NewPointer(n)} {
					if iface != nil && !types.IsInterface(n) && types.Implements(t, iface) {
						m, _, _ := types.LookupFieldOrMethod(t, true, o.Pkg(), o.Name())
						if fn, ok := m.(*types.Func); ok {
							sc.visitFunc(fn, out, seen)
						}
					}
				}
			}
			return
		}
		sc.visitFunc(o, out, seen)
	}
}

func (sc *problemScan) isApperr(info *types.Info, e ast.Expr, name string) bool {
	var id *ast.Ident
	switch e := e.(type) {
	case *ast.SelectorExpr:
		id = e.Sel
	case *ast.Ident:
		id = e
	default:
		return false
	}
	obj := info.Uses[id]
	return obj != nil && obj.Pkg() == sc.apperrP && obj.Name() == name
}

func (sc *problemScan) isErrorType(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() == sc.apperrP && n.Obj().Name() == "Error"
}

func (sc *problemScan) kindOf(info *types.Info, e ast.Expr) apperr.Kind {
	var id *ast.Ident
	switch e := e.(type) {
	case *ast.SelectorExpr:
		id = e.Sel
	case *ast.Ident:
		id = e
	}
	if id != nil {
		if c, ok := info.Uses[id].(*types.Const); ok {
			if v, ok := constant.Int64Val(c.Val()); ok {
				return apperr.Kind(v)
			}
		}
	}
	return apperr.Internal
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// serverMethod finds the method of *Server named name.
func (sc *problemScan) serverMethod(name string) *types.Func {
	for fn := range sc.funcs {
		sig := fn.Type().(*types.Signature)
		if fn.Name() != name || sig.Recv() == nil {
			continue
		}
		rt := sig.Recv().Type()
		if p, ok := rt.(*types.Pointer); ok {
			rt = p.Elem()
		}
		if n, ok := rt.(*types.Named); ok && n.Obj().Name() == "Server" && strings.HasSuffix(n.Obj().Pkg().Path(), "/internal/httpapi") {
			return fn
		}
	}
	return nil
}
