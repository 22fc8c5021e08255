using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Aap.Api.Tests.Architecture;

/// <summary>One place where a type names another: <paramref name="Via"/> says where (a field, a signature, a method body).</summary>
public sealed record TypeDependency(TypeDefinition Source, TypeDefinition Target, string Via)
{
    public override string ToString() => $"{Source.FullName} names {Target.FullName} ({Via})";
}

/// <summary>
/// What the types of one assembly name of each other, read from its metadata and IL with Mono.Cecil: base types,
/// interfaces, attributes, fields, properties, events, method signatures, locals and every type, method and field a
/// method body refers to, generic arguments included (so <c>db.Set&lt;App&gt;()</c> names <c>App</c>). Nested and
/// compiler-generated types (closures, async state machines, lambdas) count as the top-level type that declares them,
/// on both sides. Only types defined in the assembly are reported: it answers "which of my types uses which".
/// </summary>
public sealed class TypeDependencies
{
    private readonly Dictionary<string, TypeDefinition> _own;

    private TypeDependencies(ModuleDefinition module)
    {
        Module = module;
        Types = module.Types.Where(t => t.Name != "<Module>").ToList();
        _own = module.GetTypes().ToDictionary(t => t.FullName, StringComparer.Ordinal);
    }

    public ModuleDefinition Module { get; }

    /// <summary>The top-level types of the assembly (nested types are part of these).</summary>
    public IReadOnlyList<TypeDefinition> Types { get; }

    public static TypeDependencies Of(string assemblyPath)
    {
        var symbols = File.Exists(Path.ChangeExtension(assemblyPath, ".pdb"));
        var module = ModuleDefinition.ReadModule(assemblyPath, new ReaderParameters { ReadSymbols = symbols, InMemory = true });
        return new TypeDependencies(module);
    }

    /// <summary>The top-level type that declares <paramref name="type"/> (itself when it is not nested).</summary>
    public static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    public static bool HasAttribute(TypeDefinition type, string attributeFullName) =>
        type.CustomAttributes.Any(a => a.AttributeType.FullName == attributeFullName);

    /// <summary>Every distinct (source, target, where) of <paramref name="source"/> and its nested types, targets made top-level.</summary>
    public IReadOnlyList<TypeDependency> Of(TypeDefinition source)
    {
        var found = new List<TypeDependency>();
        var seen = new HashSet<(string, string)>();
        foreach (var type in Self(source))
        {
            Visit(type, found, seen, source);
        }

        return found;
    }

    private static IEnumerable<TypeDefinition> Self(TypeDefinition type) => [type, .. type.NestedTypes.SelectMany(Self)];

    private void Visit(TypeDefinition type, List<TypeDependency> found, HashSet<(string, string)> seen, TypeDefinition source)
    {
        var where = Describe(type);
        void Add(TypeReference? reference, string via)
        {
            foreach (var target in Own(reference))
            {
                if (target != source && seen.Add((target.FullName, via)))
                {
                    found.Add(new TypeDependency(source, target, via));
                }
            }
        }

        Add(type.BaseType, $"base type of {where}");
        foreach (var implemented in type.Interfaces)
        {
            Add(implemented.InterfaceType, $"interface of {where}");
        }

        Attributes(type, $"attribute of {where}", Add);
        Constraints(type.GenericParameters, $"generic constraint of {where}", Add);
        foreach (var field in type.Fields)
        {
            Add(field.FieldType, $"field {where}.{field.Name}");
            Attributes(field, $"attribute of field {where}.{field.Name}", Add);
        }

        foreach (var property in type.Properties)
        {
            Add(property.PropertyType, $"property {where}.{property.Name}");
            Attributes(property, $"attribute of property {where}.{property.Name}", Add);
        }

        foreach (var @event in type.Events)
        {
            Add(@event.EventType, $"event {where}.{@event.Name}");
        }

        foreach (var method in type.Methods)
        {
            VisitMethod(method, $"{where}.{method.Name}", Add);
        }
    }

    private static void VisitMethod(MethodDefinition method, string name, Action<TypeReference?, string> add)
    {
        add(method.ReturnType, $"signature of {name}");
        foreach (var parameter in method.Parameters)
        {
            add(parameter.ParameterType, $"signature of {name}");
            Attributes(parameter, $"attribute of a parameter of {name}", add);
        }

        Attributes(method, $"attribute of {name}", add);
        Attributes(method.MethodReturnType, $"attribute of {name}", add);
        Constraints(method.GenericParameters, $"generic constraint of {name}", add);
        if (!method.HasBody)
        {
            return;
        }

        var body = $"body of {name}";
        foreach (var variable in method.Body.Variables)
        {
            add(variable.VariableType, body);
        }

        foreach (var handler in method.Body.ExceptionHandlers)
        {
            add(handler.CatchType, body);
        }

        foreach (var instruction in method.Body.Instructions)
        {
            switch (instruction.Operand)
            {
                case TypeReference type:
                    add(type, body);
                    break;
                case MethodReference called:
                    add(called.DeclaringType, body);
                    add(called.ReturnType, body);
                    foreach (var parameter in called.Parameters)
                    {
                        add(parameter.ParameterType, body);
                    }

                    if (called is GenericInstanceMethod generic)
                    {
                        foreach (var argument in generic.GenericArguments)
                        {
                            add(argument, body);
                        }
                    }

                    break;
                case FieldReference field:
                    add(field.DeclaringType, body);
                    add(field.FieldType, body);
                    break;
                case CallSite site:
                    add(site.ReturnType, body);
                    foreach (var parameter in site.Parameters)
                    {
                        add(parameter.ParameterType, body);
                    }

                    break;
            }
        }
    }

    private static void Attributes(ICustomAttributeProvider provider, string via, Action<TypeReference?, string> add)
    {
        foreach (var attribute in provider.CustomAttributes)
        {
            add(attribute.AttributeType, via);
            foreach (var argument in attribute.ConstructorArguments.Concat(attribute.Properties.Select(p => p.Argument)).Concat(attribute.Fields.Select(f => f.Argument)))
            {
                add(argument.Value as TypeReference, via);
            }
        }
    }

    private static void Constraints(IEnumerable<GenericParameter> parameters, string via, Action<TypeReference?, string> add)
    {
        foreach (var constraint in parameters.SelectMany(p => p.Constraints))
        {
            add(constraint.ConstraintType, via);
        }
    }

    /// <summary>The assembly's own top-level types that <paramref name="reference"/> spells, generic arguments and element types included.</summary>
    private IEnumerable<TypeDefinition> Own(TypeReference? reference)
    {
        switch (reference)
        {
            case null or GenericParameter:
                yield break;
            case GenericInstanceType generic:
                foreach (var type in Own(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Own)))
                {
                    yield return type;
                }

                yield break;
            case TypeSpecification specification: // arrays, by-ref, pointers, modifiers
                foreach (var type in Own(specification.ElementType))
                {
                    yield return type;
                }

                yield break;
        }

        if (reference is TypeDefinition || reference.Scope == Module)
        {
            if (_own.TryGetValue(reference.FullName, out var definition))
            {
                yield return Outermost(definition);
            }
        }
    }

    /// <summary>A type's name as a reader finds it in the source: a nested compiler-generated type is named after its declaring type.</summary>
    private static string Describe(TypeDefinition type) =>
        type.DeclaringType is { } outer ? $"{Describe(outer)}+{type.Name}" : type.FullName;

    /// <summary>The source file <paramref name="method"/> is written in, when the assembly has symbols.</summary>
    public static string? SourceFile(MethodDefinition method) =>
        method.DebugInformation.HasSequencePoints ? method.DebugInformation.SequencePoints[0].Document.Url : null;
}
