using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// Ratios read as "1,300x faster" rather than "0.001": the lookup is compared with a baseline it beats by far.
var config = DefaultConfig.Instance.WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
// Not typeof(Program): the referenced web project has a public Program of its own.
BenchmarkSwitcher.FromAssembly(typeof(Aap.Benchmarks.AccessTokenBenchmarks).Assembly).Run(args, config);
