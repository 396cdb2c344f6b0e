package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes decoded DSP0200 operations against the class repository and the providers: the intrinsic
 * operations (classes, instances, associations, queries, pulls) and extrinsic method calls. Each
 * request is authorised per namespace (read or write) before anything runs, and every failure becomes
 * an {@code <ERROR>} with the standard code: the HTTP layer never sees an exception from here.
 */
final class Operations {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

    /** Operations that change something: they need write access to the namespace. */
    private static final Set<String> WRITES = Set.of("CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass",
            "ModifyClass", "DeleteClass", "SetProperty", "SetQualifier", "DeleteQualifier");

    private final Services services;
    private final ClassRepository repo;
    private final PullContexts pulls;
    private final Map<String, Map<String, Provider>> providers = new LinkedHashMap<>();

    Operations(Services services, List<Provider> all, PullContexts pulls) {
        this.services = services;
        this.repo = services.repo();
        this.pulls = pulls;
        for (Provider p : all) {
            CimClass c = repo.get(p.namespace(), p.className());
            if (c.isAbstract()) {
                throw new IllegalStateException("provider for abstract class " + c.name());
            }
            if (providers.computeIfAbsent(p.namespace(), k -> new LinkedHashMap<>()).put(c.lowerName(), p) != null) {
                throw new IllegalStateException("two providers for " + p.namespace() + ":" + c.name());
            }
        }
    }

    /** Runs r for user, writing its (I)METHODRESPONSE into w; returns the CIM status code (0: success). */
    int execute(CimRequest r, CimUser user, CimXmlWriter w) {
        StringBuilder out = w.out();
        String tag = r.intrinsic() ? "IMETHODRESPONSE" : "METHODRESPONSE";
        out.append('<').append(tag).append(" NAME=\"").append(CimXmlWriter.escape(r.method())).append("\">");
        int mark = out.length();
        int code = 0;
        try {
            String ns = r.namespace();
            if (!repo.hasNamespace(ns)) {
                throw new CimException(CimStatus.INVALID_NAMESPACE, "namespace '" + ns + "' does not exist (Ferry serves "
                        + repo.namespaceNames() + ")");
            }
            boolean write = !r.intrinsic() || WRITES.contains(r.method());
            if (!user.mayRead(ns) || (write && !user.mayWrite(ns))) {
                throw new CimException(CimStatus.ACCESS_DENIED, "user " + user.name() + " may not " + (write ? "change" : "read")
                        + " namespace " + ns);
            }
            CallContext ctx = new CallContext(services, user.name(), ns);
            if (r.intrinsic()) {
                intrinsic(r, ctx, w);
            } else {
                extrinsic(r, ctx, w);
            }
        } catch (CimException e) {
            out.setLength(mark);
            w.error(e);
            code = e.status().code();
        } catch (RuntimeException e) {
            LOG.warn("{} in {} failed: {}", r.method(), r.namespace(), e.toString(), e);
            out.setLength(mark);
            w.error(new CimException(CimStatus.FAILED, r.method() + " failed: " + e.getMessage()));
            code = CimStatus.FAILED.code();
        }
        out.append("</").append(tag).append('>');
        return code;
    }

    // ---- intrinsic ----

    private void intrinsic(CimRequest r, CallContext ctx, CimXmlWriter w) {
        Params p = new Params(r);
        switch (r.method()) {
            case "GetClass" -> getClass(p, ctx, w);
            case "EnumerateClasses" -> enumerateClasses(p, ctx, w, false);
            case "EnumerateClassNames" -> enumerateClasses(p, ctx, w, true);
            case "GetInstance" -> getInstance(p, ctx, w);
            case "EnumerateInstances" -> enumerateInstances(p, ctx, w, false);
            case "EnumerateInstanceNames" -> enumerateInstances(p, ctx, w, true);
            case "Associators", "AssociatorNames", "References", "ReferenceNames" -> associations(r.method(), p, ctx, w);
            case "CreateInstance" -> createInstance(p, ctx, w);
            case "ModifyInstance" -> modifyInstance(p, ctx, w);
            case "DeleteInstance" -> deleteInstance(p, ctx, w);
            case "ExecQuery" -> execQuery(p, ctx, w);
            case "OpenEnumerateInstances", "OpenEnumerateInstancePaths", "OpenAssociatorInstances", "OpenAssociatorInstancePaths",
                    "OpenReferenceInstances", "OpenReferenceInstancePaths", "OpenQueryInstances" -> open(r.method(), p, ctx, w);
            case "PullInstancesWithPath" -> pull(p, ctx, w, PullContexts.Kind.INSTANCES_WITH_PATH);
            case "PullInstancePaths" -> pull(p, ctx, w, PullContexts.Kind.PATHS);
            case "PullInstances" -> pull(p, ctx, w, PullContexts.Kind.INSTANCES);
            case "CloseEnumeration" -> {
                p.allow("EnumerationContext");
                pulls.close(pulls.get(p.string("EnumerationContext"), ctx.user(), ctx.namespace(), null));
            }
            case "CreateClass", "ModifyClass", "DeleteClass", "SetQualifier", "DeleteQualifier", "GetQualifier", "EnumerateQualifiers",
                    "GetProperty", "SetProperty", "EnumerationCount" -> throw new CimException(CimStatus.NOT_SUPPORTED,
                            r.method() + " is not supported: Ferry's schema is fixed and properties are read with GetInstance");
            default -> throw new CimException(CimStatus.NOT_SUPPORTED, "unknown operation " + r.method());
        }
    }

    private void getClass(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("ClassName", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList");
        CimClass c = repo.get(ctx.namespace(), p.className("ClassName", true));
        w.out().append("<IRETURNVALUE>");
        w.cimClass(c, p.bool("LocalOnly", true), p.bool("IncludeQualifiers", true), p.bool("IncludeClassOrigin", false),
                p.propertyList());
        w.out().append("</IRETURNVALUE>");
    }

    private void enumerateClasses(Params p, CallContext ctx, CimXmlWriter w, boolean names) {
        if (names) {
            p.allow("ClassName", "DeepInheritance");
        } else {
            p.allow("ClassName", "DeepInheritance", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin");
        }
        String base = p.className("ClassName", false);
        if (base != null) {
            repo.get(ctx.namespace(), base);
        }
        List<CimClass> classes = repo.subclasses(ctx.namespace(), base, p.bool("DeepInheritance", false));
        w.out().append("<IRETURNVALUE>");
        for (CimClass c : classes) {
            if (names) {
                w.className(c.name());
            } else {
                w.cimClass(c, p.bool("LocalOnly", true), p.bool("IncludeQualifiers", true), p.bool("IncludeClassOrigin", false), null);
            }
        }
        w.out().append("</IRETURNVALUE>");
    }

    private void getInstance(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("InstanceName", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList");
        CimObjectPath path = p.instanceName("InstanceName").withNamespace(ctx.namespace());
        CimInstance inst = requireInstance(ctx, path);
        boolean localOnly = p.bool("LocalOnly", false);
        inst = present(inst, inst.className(), true, localOnly, p.propertyList(), ctx.namespace());
        w.out().append("<IRETURNVALUE>");
        w.instance(inst, p.bool("IncludeClassOrigin", false));
        w.out().append("</IRETURNVALUE>");
    }

    private void enumerateInstances(Params p, CallContext ctx, CimXmlWriter w, boolean names) {
        if (names) {
            p.allow("ClassName");
        } else {
            p.allow("ClassName", "LocalOnly", "DeepInheritance", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList");
        }
        String cls = repo.get(ctx.namespace(), p.className("ClassName", true)).name();
        List<CimInstance> all = instancesOf(ctx, ctx.namespace(), cls);
        boolean classOrigin = p.bool("IncludeClassOrigin", false);
        boolean deep = p.bool("DeepInheritance", true);
        boolean localOnly = p.bool("LocalOnly", false);
        Set<String> pl = p.propertyList();
        w.out().append("<IRETURNVALUE>");
        for (CimInstance i : all) {
            if (names) {
                w.instanceName(i.path());
            } else {
                w.namedInstance(present(i, cls, deep, localOnly, pl, ctx.namespace()), classOrigin);
            }
        }
        w.out().append("</IRETURNVALUE>");
    }

    private void createInstance(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("NewInstance");
        Object raw = p.raw("NewInstance");
        if (!(raw instanceof CimInstance)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "NewInstance must be an INSTANCE");
        }
        CimInstance given = typed((CimInstance) raw, ctx.namespace());
        Provider provider = exactProvider(ctx.namespace(), given.className());
        CimObjectPath created = provider.create(ctx, given);
        w.out().append("<IRETURNVALUE>");
        w.instanceName(created);
        w.out().append("</IRETURNVALUE>");
    }

    private void modifyInstance(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("ModifiedInstance", "IncludeQualifiers", "PropertyList");
        Object raw = p.raw("ModifiedInstance");
        if (!(raw instanceof CimInstance) || ((CimInstance) raw).path() == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "ModifiedInstance must be a VALUE.NAMEDINSTANCE");
        }
        CimInstance given = (CimInstance) raw;
        CimObjectPath path = given.path().withNamespace(ctx.namespace());
        if (!path.className().equalsIgnoreCase(given.className())) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "the instance (" + given.className() + ") and its name ("
                    + path.className() + ") name different classes");
        }
        Set<String> pl = p.propertyList();
        CimClass cls = repo.get(ctx.namespace(), path.className());
        if (pl != null) {
            for (String n : pl) {
                if (cls.property(n) == null) {
                    throw new CimException(CimStatus.NO_SUCH_PROPERTY, cls.name() + " has no property " + n);
                }
            }
        }
        CimInstance typedGiven = typed(given, ctx.namespace()).withPath(path);
        for (CimClass.Property k : cls.keys()) {
            Object v = typedGiven.value(k.name());
            if (v != null && !CimObjectPath.keyValueEquals(v, path.key(k.name()))) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "key " + k.name() + " cannot be modified");
            }
        }
        CimInstance existing = requireInstance(ctx, path);
        providerOf(ctx.namespace(), existing.className()).modify(ctx, typedGiven.withPath(existing.path()), pl);
        ctx.changed();
    }

    private void deleteInstance(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("InstanceName");
        CimObjectPath path = p.instanceName("InstanceName").withNamespace(ctx.namespace());
        CimInstance existing = requireInstance(ctx, path);
        providerOf(ctx.namespace(), existing.className()).delete(ctx, existing.path());
        ctx.changed();
    }

    private void execQuery(Params p, CallContext ctx, CimXmlWriter w) {
        p.allow("QueryLanguage", "Query");
        List<CimInstance> result = query(ctx, p.string("QueryLanguage"), p.string("Query"));
        w.out().append("<IRETURNVALUE>");
        for (CimInstance i : result) {
            w.objectWithPath(i, false);
        }
        w.out().append("</IRETURNVALUE>");
    }

    private List<CimInstance> query(CallContext ctx, String language, String text) {
        if (!Wql.supportsLanguage(language)) {
            throw new CimException(CimStatus.QUERY_LANGUAGE_NOT_SUPPORTED, "query language '" + language + "' is not supported (WQL, DMTF:CQL)");
        }
        Wql.Query q = Wql.parse(text);
        CimClass cls = repo.find(ctx.namespace(), q.className());
        if (cls == null) {
            throw new CimException(CimStatus.INVALID_QUERY, "invalid query: no class " + q.className() + " in " + ctx.namespace());
        }
        Set<String> select = null;
        if (q.select() != null) {
            select = new HashSet<>();
            for (String s : q.select()) {
                select.add(s.toLowerCase(Locale.ROOT));
            }
        }
        List<CimInstance> out = new ArrayList<>();
        for (CimInstance i : instancesOf(ctx, ctx.namespace(), cls.name())) {
            if (q.matches(i, repo, ctx.namespace())) {
                out.add(present(i, cls.name(), true, false, select, ctx.namespace()));
            }
        }
        return out;
    }

    // ---- associations ----

    /** One association instance and the far end it leads to from the source. */
    private record Link(CimInstance association, CimObjectPath target) {}

    private void associations(String op, Params p, CallContext ctx, CimXmlWriter w) {
        boolean refs = op.startsWith("Reference");
        boolean names = op.endsWith("Names");
        if (refs) {
            p.allow(names ? new String[] {"ObjectName", "ResultClass", "Role"}
                    : new String[] {"ObjectName", "ResultClass", "Role", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"});
        } else {
            p.allow(names ? new String[] {"ObjectName", "AssocClass", "ResultClass", "Role", "ResultRole"}
                    : new String[] {"ObjectName", "AssocClass", "ResultClass", "Role", "ResultRole", "IncludeQualifiers",
                            "IncludeClassOrigin", "PropertyList"});
        }
        Object on = p.raw("ObjectName");
        if (!(on instanceof CimObjectPath)) {
            throw new CimException(CimStatus.INVALID_PARAMETER, op + " needs ObjectName (an INSTANCENAME or CLASSNAME)");
        }
        CimObjectPath source = ((CimObjectPath) on).withNamespace(ctx.namespace());
        repo.get(ctx.namespace(), source.className());
        String assocClass = refs ? p.className("ResultClass", false) : p.className("AssocClass", false);
        String resultClass = refs ? null : p.className("ResultClass", false);
        String role = p.string("Role");
        String resultRole = refs ? null : p.string("ResultRole");
        boolean classOrigin = p.bool("IncludeClassOrigin", false);
        Set<String> pl = p.propertyList();
        w.out().append("<IRETURNVALUE>");
        if (source.isClassPath()) {
            classAssociations(ctx, source.className(), assocClass, resultClass, role, resultRole, refs, names, w);
        } else {
            List<Link> links = links(ctx, source, assocClass, resultClass, role, resultRole);
            if (refs) {
                Set<String> seen = new HashSet<>();
                for (Link l : links) {
                    if (seen.add(l.association().path().canonical())) {
                        if (names) {
                            w.objectPath(l.association().path());
                        } else {
                            w.objectWithPath(present(l.association(), l.association().className(), true, false, pl, ctx.namespace()),
                                    classOrigin);
                        }
                    }
                }
            } else {
                for (CimInstance i : associated(ctx, links, names)) {
                    if (names) {
                        w.objectPath(i.path());
                    } else {
                        w.objectWithPath(present(i, i.className(), true, false, pl, i.path().namespace()), classOrigin);
                    }
                }
            }
        }
        w.out().append("</IRETURNVALUE>");
    }

    /** The association instances that reference source in role, and where each leads (resultRole, resultClass). */
    private List<Link> links(CallContext ctx, CimObjectPath source, String assocClass, String resultClass, String role, String resultRole) {
        String ns = ctx.namespace();
        requireInstance(ctx, source);
        if (assocClass != null) {
            repo.get(ns, assocClass);
        }
        List<Link> out = new ArrayList<>();
        for (Provider p : providers.getOrDefault(ns, Map.of()).values()) {
            CimClass c = repo.get(ns, p.className());
            if (!c.isAssociation() || (assocClass != null && !repo.isA(ns, c.name(), assocClass))) {
                continue;
            }
            for (CimInstance a : p.referencing(ctx, source)) {
                List<CimProperty> refProps = new ArrayList<>();
                Set<String> sourceRoles = new HashSet<>();
                for (CimProperty prop : a.properties()) {
                    if (prop.type() == CimType.REFERENCE && prop.value() != null) {
                        refProps.add(prop);
                        if (source.equals(prop.value()) && (role == null || prop.name().equalsIgnoreCase(role))) {
                            sourceRoles.add(prop.name());
                        }
                    }
                }
                if (sourceRoles.isEmpty()) {
                    continue;
                }
                for (CimProperty prop : refProps) {
                    if (sourceRoles.contains(prop.name()) || (resultRole != null && !prop.name().equalsIgnoreCase(resultRole))) {
                        continue;
                    }
                    CimObjectPath target = ((CimObjectPath) prop.value()).inNamespace(ns);
                    if (resultClass != null && !repo.isA(target.namespace(), target.className(), resultClass)) {
                        continue;
                    }
                    out.add(new Link(a, target));
                }
            }
        }
        return out;
    }

    /** The instances at the far ends of links, once each (their paths only, when names). */
    private List<CimInstance> associated(CallContext ctx, List<Link> links, boolean names) {
        Map<String, CimObjectPath> unique = new LinkedHashMap<>();
        for (Link l : links) {
            unique.putIfAbsent(l.target().canonical(), l.target());
        }
        List<CimInstance> out = new ArrayList<>();
        for (CimObjectPath t : unique.values()) {
            CimInstance i = findInstance(ctx, t.namespace(), t);
            if (i != null) {
                out.add(i); // a link to an element that is gone meanwhile is skipped
            }
        }
        return out;
    }

    /** Class-level associations: the classes the association classes link a class to. */
    private void classAssociations(CallContext ctx, String source, String assocClass, String resultClass, String role,
            String resultRole, boolean refs, boolean names, CimXmlWriter w) {
        String ns = ctx.namespace();
        Set<String> seen = new HashSet<>();
        for (CimClass a : repo.all(ns)) {
            if (!a.isAssociation() || (assocClass != null && !repo.isA(ns, a.name(), assocClass))) {
                continue;
            }
            for (CimClass.Property from : a.properties()) {
                if (from.type() != CimType.REFERENCE || (role != null && !from.name().equalsIgnoreCase(role))
                        || !(repo.isA(ns, source, from.referenceClass()) || repo.isA(ns, from.referenceClass(), source))) {
                    continue;
                }
                if (refs) {
                    if (seen.add(a.lowerName())) {
                        writeClassResult(w, ns, a, names);
                    }
                    continue;
                }
                for (CimClass.Property to : a.properties()) {
                    if (to == from || to.type() != CimType.REFERENCE || (resultRole != null && !to.name().equalsIgnoreCase(resultRole))) {
                        continue;
                    }
                    CimClass target = repo.find(ns, to.referenceClass());
                    if (target == null || (resultClass != null && !repo.isA(ns, target.name(), resultClass))) {
                        continue;
                    }
                    if (seen.add(target.lowerName())) {
                        writeClassResult(w, ns, target, names);
                    }
                }
            }
        }
    }

    private static void writeClassResult(CimXmlWriter w, String ns, CimClass c, boolean names) {
        CimObjectPath path = CimObjectPath.ofClass(ns, c.name());
        if (names) {
            w.objectPath(path);
        } else {
            w.out().append("<VALUE.OBJECTWITHPATH>");
            w.classPath(path);
            w.cimClass(c, false, true, false, null);
            w.out().append("</VALUE.OBJECTWITHPATH>");
        }
    }

    // ---- pulls ----

    private void open(String op, Params p, CallContext ctx, CimXmlWriter w) {
        boolean paths = op.endsWith("Paths");
        List<String> common = List.of("OperationTimeout", "ContinueOnError", "MaxObjectCount", "FilterQueryLanguage", "FilterQuery");
        List<String> allowed = new ArrayList<>(common);
        List<CimInstance> items;
        PullContexts.Kind kind = paths ? PullContexts.Kind.PATHS : PullContexts.Kind.INSTANCES_WITH_PATH;
        if (op.equals("OpenQueryInstances")) {
            allowed.add("ReturnQueryResultClass");
            p.allow(allowed.toArray(new String[0]));
            if (p.bool("ReturnQueryResultClass", false)) {
                throw new CimException(CimStatus.NOT_SUPPORTED, "ReturnQueryResultClass is not supported");
            }
            checkPullOptions(p, false);
            items = query(ctx, p.string("FilterQueryLanguage"), p.string("FilterQuery"));
            kind = PullContexts.Kind.INSTANCES;
        } else {
            checkPullOptions(p, true);
            boolean classOrigin;
            Set<String> pl;
            if (op.startsWith("OpenEnumerate")) {
                allowed.addAll(List.of("ClassName", "DeepInheritance", "IncludeClassOrigin", "PropertyList", "LocalOnly", "IncludeQualifiers"));
                p.allow(allowed.toArray(new String[0]));
                String cls = repo.get(ctx.namespace(), p.className("ClassName", true)).name();
                boolean deep = p.bool("DeepInheritance", true);
                pl = p.propertyList();
                items = new ArrayList<>();
                for (CimInstance i : instancesOf(ctx, ctx.namespace(), cls)) {
                    items.add(present(i, cls, deep, false, pl, ctx.namespace()));
                }
            } else {
                boolean refs = op.startsWith("OpenReference");
                allowed.addAll(refs ? List.of("InstanceName", "ResultClass", "Role", "IncludeClassOrigin", "PropertyList")
                        : List.of("InstanceName", "AssocClass", "ResultClass", "Role", "ResultRole", "IncludeClassOrigin", "PropertyList"));
                p.allow(allowed.toArray(new String[0]));
                CimObjectPath source = p.instanceName("InstanceName").withNamespace(ctx.namespace());
                pl = p.propertyList();
                List<Link> links = links(ctx, source, refs ? p.className("ResultClass", false) : p.className("AssocClass", false),
                        refs ? null : p.className("ResultClass", false), p.string("Role"), refs ? null : p.string("ResultRole"));
                items = new ArrayList<>();
                if (refs) {
                    Set<String> seen = new HashSet<>();
                    for (Link l : links) {
                        if (seen.add(l.association().path().canonical())) {
                            items.add(present(l.association(), l.association().className(), true, false, pl, ctx.namespace()));
                        }
                    }
                } else {
                    for (CimInstance i : associated(ctx, links, paths)) {
                        items.add(present(i, i.className(), true, false, pl, i.path().namespace()));
                    }
                }
            }
            classOrigin = p.bool("IncludeClassOrigin", false);
            if (!classOrigin) {
                List<CimInstance> stripped = new ArrayList<>(items.size());
                for (CimInstance i : items) {
                    stripped.add(i.withoutClassOrigin());
                }
                items = stripped;
            }
        }
        PullContexts.Context c = pulls.open(ctx.user(), ctx.namespace(), kind, items, PullContexts.timeout(p.uint("OperationTimeout")));
        respondPull(c, PullContexts.maxObjectCount(p.uint("MaxObjectCount"), 0), w);
    }

    private static void checkPullOptions(Params p, boolean filterable) {
        if (p.bool("ContinueOnError", false)) {
            throw new CimException(CimStatus.CONTINUATION_ON_ERROR_NOT_SUPPORTED, "ContinueOnError is not supported");
        }
        if (filterable && (p.string("FilterQuery") != null || p.string("FilterQueryLanguage") != null)) {
            throw new CimException(CimStatus.FILTERED_ENUMERATION_NOT_SUPPORTED,
                    "filtered enumerations are not supported: use OpenQueryInstances with WQL");
        }
    }

    private void pull(Params p, CallContext ctx, CimXmlWriter w, PullContexts.Kind kind) {
        p.allow("EnumerationContext", "MaxObjectCount");
        PullContexts.Context c = pulls.get(p.string("EnumerationContext"), ctx.user(), ctx.namespace(), kind);
        Long max = p.uint("MaxObjectCount");
        if (max == null) {
            throw new CimException(CimStatus.INVALID_PARAMETER, "MaxObjectCount is required");
        }
        respondPull(c, PullContexts.maxObjectCount(max, 0), w);
    }

    private void respondPull(PullContexts.Context c, long max, CimXmlWriter w) {
        List<CimInstance> batch = c.take(max);
        boolean end = c.done();
        if (end) {
            pulls.close(c);
        }
        w.out().append("<IRETURNVALUE>");
        for (CimInstance i : batch) {
            switch (c.kind) {
                case PATHS -> w.instancePath(i.path());
                case INSTANCES -> w.instance(i, false);
                default -> w.instanceWithPath(i, true);
            }
        }
        w.out().append("</IRETURNVALUE><PARAMVALUE NAME=\"EndOfSequence\" PARAMTYPE=\"boolean\"><VALUE>")
                .append(end ? "TRUE" : "FALSE").append("</VALUE></PARAMVALUE><PARAMVALUE NAME=\"EnumerationContext\" PARAMTYPE=\"string\">");
        if (!end) {
            w.out().append("<VALUE>").append(c.id).append("</VALUE>");
        }
        w.out().append("</PARAMVALUE>");
    }

    // ---- extrinsic ----

    private void extrinsic(CimRequest r, CallContext ctx, CimXmlWriter w) {
        String ns = ctx.namespace();
        CimObjectPath target = r.target().withNamespace(ns);
        CimClass cls = repo.get(ns, target.className());
        CimClass.Method m = cls.method(r.method());
        if (m == null) {
            throw new CimException(CimStatus.METHOD_NOT_FOUND, cls.name() + " has no method " + r.method());
        }
        Map<String, Object> args = new LinkedHashMap<>();
        for (XmlTree.Node pv : r.extrinsicParams()) {
            String name = pv.attr("NAME");
            CimClass.Parameter decl = m.parameter(name);
            if (decl == null || !decl.isIn()) {
                throw new CimException(CimStatus.INVALID_PARAMETER, m.name() + " has no input parameter " + name);
            }
            if (args.containsKey(decl.name())) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "parameter " + name + " given twice");
            }
            args.put(decl.name(), argument(CimXmlReader.rawValue(pv), decl, ns));
        }
        Provider provider;
        CimObjectPath invoked = target;
        if (target.isClassPath()) {
            provider = providerOf(ns, cls.name());
        } else {
            CimInstance inst = requireInstance(ctx, target);
            provider = providerOf(ns, inst.className());
            invoked = inst.path();
        }
        MethodResult result = provider.invoke(ctx, invoked, m, args);
        StringBuilder out = w.out();
        out.append("<RETURNVALUE PARAMTYPE=\"").append(m.returnType().cimName()).append("\"><VALUE>").append(result.returnValue())
                .append("</VALUE></RETURNVALUE>");
        for (CimClass.Parameter decl : m.parameters()) {
            Object v = result.out().get(decl.name());
            if (!decl.isOut() || v == null) {
                continue;
            }
            out.append("<PARAMVALUE NAME=\"").append(decl.name()).append("\" PARAMTYPE=\"").append(decl.type().cimName()).append('"');
            if (v instanceof CimInstance) {
                out.append(" EmbeddedObject=\"instance\"");
            }
            out.append('>');
            if (decl.type() == CimType.REFERENCE && decl.array()) {
                out.append("<VALUE.REFARRAY>");
                for (Object o : (List<?>) v) {
                    w.valueReference((CimObjectPath) o);
                }
                out.append("</VALUE.REFARRAY>");
            } else if (decl.type() == CimType.REFERENCE) {
                w.valueReference((CimObjectPath) v);
            } else if (decl.array()) {
                w.valueArray(decl.type(), (List<?>) v);
            } else {
                w.value(decl.type(), v);
            }
            out.append("</PARAMVALUE>");
        }
    }

    /** Types a raw parameter value against its declaration (wbemcli sends no PARAMTYPE: the declaration decides). */
    private static Object argument(Object raw, CimClass.Parameter decl, String ns) {
        if (raw == null) {
            return null;
        }
        try {
            if (decl.type() == CimType.REFERENCE) {
                if (decl.array()) {
                    List<Object> out = new ArrayList<>();
                    for (Object o : raw instanceof List ? (List<?>) raw : List.of(raw)) {
                        out.add(o == null ? null : reference(o, ns));
                    }
                    return out;
                }
                return reference(raw, ns);
            }
            boolean embedded = decl.embeddedInstance() != null;
            if (decl.array()) {
                List<Object> out = new ArrayList<>();
                for (Object o : raw instanceof List ? (List<?>) raw : List.of(raw)) {
                    out.add(o == null ? null : scalar(o, decl, embedded));
                }
                return out;
            }
            if (raw instanceof List) {
                throw new CimException(CimStatus.INVALID_PARAMETER, decl.name() + " is not an array");
            }
            return scalar(raw, decl, embedded);
        } catch (CimException e) {
            if (e.status() == CimStatus.TYPE_MISMATCH) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "parameter " + decl.name() + ": " + e.getMessage());
            }
            throw e;
        }
    }

    private static Object scalar(Object raw, CimClass.Parameter decl, boolean embedded) {
        if (raw instanceof CimInstance) {
            if (!embedded) {
                throw new CimException(CimStatus.INVALID_PARAMETER, decl.name() + " does not take an instance");
            }
            return raw;
        }
        if (raw instanceof CimObjectPath) {
            throw new CimException(CimStatus.INVALID_PARAMETER, decl.name() + " does not take a reference");
        }
        return decl.type() == CimType.STRING ? raw : decl.type().parse(String.valueOf(raw));
    }

    private static CimObjectPath reference(Object raw, String ns) {
        CimObjectPath p = raw instanceof CimObjectPath ? (CimObjectPath) raw : CimObjectPath.parse(String.valueOf(raw));
        return p.inNamespace(ns);
    }

    // ---- instances ----

    /** Every instance of cls and its subclasses in ns. */
    List<CimInstance> instancesOf(CallContext ctx, String ns, String cls) {
        List<CimInstance> out = new ArrayList<>();
        for (Provider p : providers.getOrDefault(ns, Map.of()).values()) {
            if (repo.isA(ns, p.className(), cls)) {
                out.addAll(p.enumerate(ctx));
            }
        }
        return out;
    }

    /** The instance at path (in ns), or NOT_FOUND with the reason cimtest looks for ("No such instance"). */
    private CimInstance requireInstance(CallContext ctx, CimObjectPath path) {
        String ns = path.namespace() != null ? path.namespace() : ctx.namespace();
        CimClass cls = repo.get(ns, path.className());
        List<String> missing = new ArrayList<>();
        for (CimClass.Property k : cls.keys()) {
            if (path.key(k.name()) == null) {
                missing.add(k.name());
            }
        }
        for (String k : path.keyNames()) {
            CimClass.Property prop = cls.property(k);
            if (prop == null || !prop.isKey()) {
                throw new CimException(CimStatus.NOT_FOUND, "No such instance (" + k + "): " + cls.name() + " has no key " + k);
            }
        }
        if (!missing.isEmpty()) {
            throw new CimException(CimStatus.NOT_FOUND, "No such instance (" + String.join(", ", missing) + "): key"
                    + (missing.size() > 1 ? "s" : "") + " missing in " + path);
        }
        CimInstance i = findInstance(ctx, ns, path);
        if (i == null) {
            throw new CimException(CimStatus.NOT_FOUND, "No such instance (" + describeKeys(path) + "): " + path);
        }
        return i;
    }

    private static String describeKeys(CimObjectPath path) {
        Object ccn = path.key("CreationClassName");
        if (ccn != null && !String.valueOf(ccn).equalsIgnoreCase(path.className())) {
            return "CreationClassName";
        }
        return String.join(", ", path.keyNames());
    }

    /** The instance at path, served by the class's provider or a subclass's; null when there is none. */
    private CimInstance findInstance(CallContext ctx, String ns, CimObjectPath path) {
        Map<String, Provider> byClass = providers.getOrDefault(ns, Map.of());
        CimObjectPath p = path.withNamespace(ns);
        Provider exact = byClass.get(path.className().toLowerCase(Locale.ROOT));
        if (exact != null) {
            return exact.get(ctx, p);
        }
        Object ccn = path.key("CreationClassName");
        for (Provider sub : byClass.values()) {
            if (!repo.isA(ns, sub.className(), path.className())
                    || (ccn != null && !sub.className().equalsIgnoreCase(String.valueOf(ccn)))) {
                continue;
            }
            CimInstance i = sub.get(ctx, new CimObjectPath(null, ns, sub.className(), p.keys()));
            if (i != null) {
                return i;
            }
        }
        return null;
    }

    private Provider exactProvider(String ns, String cls) {
        CimClass c = repo.get(ns, cls);
        Provider p = providers.getOrDefault(ns, Map.of()).get(c.lowerName());
        if (p == null) {
            throw new CimException(CimStatus.NOT_SUPPORTED, "Ferry serves no instances of " + c.name() + " in " + ns);
        }
        return p;
    }

    private Provider providerOf(String ns, String cls) {
        return exactProvider(ns, cls);
    }

    /** A client's instance typed against its class: unknown properties and wrong types are refused. */
    private CimInstance typed(CimInstance raw, String ns) {
        CimClass cls = repo.get(ns, raw.className());
        List<CimProperty> out = new ArrayList<>();
        for (CimProperty given : raw.properties()) {
            CimClass.Property decl = cls.property(given.name());
            if (decl == null) {
                throw new CimException(CimStatus.INVALID_PARAMETER, cls.name() + " has no property " + given.name());
            }
            Object v = given.value();
            if (v != null) {
                if (decl.array() != (v instanceof List)) {
                    throw new CimException(CimStatus.TYPE_MISMATCH, decl.name() + (decl.array() ? " is" : " is not") + " an array");
                }
                if (decl.array()) {
                    List<Object> items = new ArrayList<>();
                    for (Object o : (List<?>) v) {
                        items.add(o == null ? null : decl.type().coerce(o instanceof String || o instanceof CimObjectPath ? o
                                : decl.type() == CimType.STRING ? String.valueOf(o) : o));
                    }
                    v = items;
                } else {
                    v = decl.type().coerce(v instanceof String || v instanceof CimObjectPath || v instanceof CimInstance ? v
                            : decl.type() == CimType.STRING ? String.valueOf(v) : v);
                }
            }
            out.add(new CimProperty(decl.name(), decl.type(), decl.array(), v, decl.referenceClass(), decl.embeddedInstance() != null,
                    decl.classOrigin(), decl.propagated()));
        }
        return new CimInstance(cls.name(), raw.path(), out);
    }

    /**
     * An instance as the request asks to see it: DeepInheritance false keeps the requested class's
     * properties only, LocalOnly those defined or overridden in it (and, deep, in its subclasses),
     * PropertyList those named.
     */
    private CimInstance present(CimInstance i, String requested, boolean deep, boolean localOnly, Set<String> pl, String ns) {
        if (deep && !localOnly && pl == null) {
            return i;
        }
        CimClass req = repo.find(ns, requested);
        return i.filter(prop -> {
            String n = prop.name().toLowerCase(Locale.ROOT);
            if (pl != null && !pl.contains(n)) {
                return false;
            }
            if (!deep && req != null && req.property(prop.name()) == null) {
                return false;
            }
            if (localOnly && prop.classOrigin() != null) {
                boolean fromRequested = prop.classOrigin().equalsIgnoreCase(requested);
                boolean fromSubclass = deep && !prop.classOrigin().equalsIgnoreCase(requested)
                        && repo.isA(ns, prop.classOrigin(), requested);
                return fromRequested || fromSubclass;
            }
            return true;
        });
    }

    // ---- parameters ----

    /** The IPARAMVALUEs of one intrinsic call, decoded on demand. */
    private static final class Params {
        private final CimRequest r;

        Params(CimRequest r) {
            this.r = r;
        }

        void allow(String... names) {
            Set<String> ok = new HashSet<>();
            for (String n : names) {
                ok.add(n.toLowerCase(Locale.ROOT));
            }
            for (Map.Entry<String, XmlTree.Node> e : r.intrinsicParams().entrySet()) {
                if (!ok.contains(e.getKey())) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, r.method() + " takes no parameter " + e.getValue().attr("NAME"));
                }
            }
        }

        Object raw(String name) {
            XmlTree.Node n = r.intrinsicParams().get(name.toLowerCase(Locale.ROOT));
            return n == null ? null : CimXmlReader.rawValue(n);
        }

        boolean bool(String name, boolean dflt) {
            Object v = raw(name);
            if (v == null) {
                return dflt;
            }
            String s = String.valueOf(v).trim();
            if (s.equalsIgnoreCase("true")) {
                return true;
            }
            if (s.equalsIgnoreCase("false")) {
                return false;
            }
            throw new CimException(CimStatus.INVALID_PARAMETER, name + " must be TRUE or FALSE");
        }

        String string(String name) {
            Object v = raw(name);
            if (v != null && !(v instanceof String)) {
                throw new CimException(CimStatus.INVALID_PARAMETER, name + " must be a string VALUE");
            }
            return (String) v;
        }

        Long uint(String name) {
            String s = string(name);
            if (s == null || s.isBlank()) {
                return null;
            }
            return (Long) CimType.UINT32.parse(s);
        }

        String className(String name, boolean required) {
            Object v = raw(name);
            if (v == null) {
                if (required) {
                    throw new CimException(CimStatus.INVALID_PARAMETER, r.method() + " needs " + name);
                }
                return null;
            }
            if (v instanceof CimObjectPath && ((CimObjectPath) v).isClassPath()) {
                return ((CimObjectPath) v).className();
            }
            throw new CimException(CimStatus.INVALID_PARAMETER, name + " must be a CLASSNAME");
        }

        CimObjectPath instanceName(String name) {
            Object v = raw(name);
            if (!(v instanceof CimObjectPath) || ((CimObjectPath) v).isClassPath()) {
                throw new CimException(CimStatus.INVALID_PARAMETER, r.method() + " needs " + name + " (an INSTANCENAME with keys)");
            }
            return (CimObjectPath) v;
        }

        /** The PropertyList as lower-case names; null when absent (all properties). */
        Set<String> propertyList() {
            Object v = raw("PropertyList");
            if (v == null) {
                return null;
            }
            if (!(v instanceof List)) {
                throw new CimException(CimStatus.INVALID_PARAMETER, "PropertyList must be a VALUE.ARRAY");
            }
            Set<String> out = new HashSet<>();
            for (Object o : (List<?>) v) {
                if (o != null) {
                    out.add(String.valueOf(o).trim().toLowerCase(Locale.ROOT));
                }
            }
            return out;
        }
    }
}
