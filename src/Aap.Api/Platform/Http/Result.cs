using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Platform.Http;

/// <summary>
/// An expected failure of an operation, as the problem it becomes on the wire: the status, the stable code, what to
/// tell the client and, when fields are to blame, their errors keyed by JSON name. Services return it; endpoints
/// turn it into a response with <see cref="ToProblem"/>, the one place where that happens.
/// </summary>
internal sealed record Failure(int Status, string Code, string Detail, FieldErrors? Errors = null)
{
    public const string InvalidFields = "One or more fields are invalid.";

    /// <summary>A failure that one field is to blame for: the detail is also that field's error.</summary>
    public static Failure Of(int status, string code, string detail, string field) => new(status, code, detail, new FieldErrors { { field, detail } });

    public static Failure Invalid(FieldErrors errors, string detail = InvalidFields) => new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, detail, errors);

    public static Failure Invalid(string field, string message) => Invalid(new FieldErrors { { field, message } });

    public static Failure NotFound(string what) => new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"{what} was not found.");

    /// <summary>The same failure, blamed on <paramref name="field"/>.</summary>
    public Failure For(string field) => this with { Errors = new FieldErrors { { field, Detail } } };

    /// <summary>The same failure under another status (the seed dialects answer some failures with the status their document lists).</summary>
    public Failure WithStatus(int status) => this with { Status = status };

    /// <summary>How long the client should wait before trying again (a refused password check, say); sent as <c>Retry-After</c>.</summary>
    [JsonIgnore]
    public TimeSpan? RetryAfter { get; init; }

    public ProblemHttpResult ToProblem() => Problems.Create(Status, Code, Detail, Errors);

    /// <summary>The problem, with the headers the failure calls for (<c>Retry-After</c>) written to the response.</summary>
    public ProblemHttpResult ToProblem(HttpContext context)
    {
        WriteHeaders(context.Response);
        return ToProblem();
    }

    /// <summary>Writes <c>Retry-After</c> (whole seconds, rounded up) when the failure says when to try again.</summary>
    public void WriteHeaders(HttpResponse response)
    {
        if (RetryAfter is { } wait)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A wait in the whole seconds <c>Retry-After</c> carries, rounded up.</summary>
    public static int RetryAfterSeconds(TimeSpan wait) => (int)Math.Ceiling(wait.TotalSeconds);
}

/// <summary>The outcome of an operation that gives back a value when it succeeds, or the <see cref="Failure"/> that stopped it.</summary>
internal readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, Failure? failure)
    {
        _value = value;
        Failure = failure;
    }

    public Failure? Failure { get; }

    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    public T Value => Failure is null ? _value! : throw new InvalidOperationException($"The operation failed: {Failure.Detail}");

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Failure failure) => new(default, failure);
}
