package esmapping

import "strings"

// The dynamic templates of Elasticsearch's built-in ecs@mappings component
// template, which the built-in logs-*-* index template (and ours) composes,
// recorded as facts from the published template
// (elastic/elasticsearch, x-pack/plugin/core/template-resources/src/main/
// resources/ecs@mappings.json; 9.x, with the rules older 8.x releases had
// where they differ). Elasticsearch tries them in order for every field that
// has no explicit mapping; the first that matches decides. "match" patterns
// test the field's own name, "path_match" patterns its full dotted path; in
// both, '*' matches any run of characters, dots included: *.ip applies at
// any depth, below Pipelog too.
//
// DynamicRule is one of those templates.
type DynamicRule struct {
	Name      string
	Match     []string // patterns on the field's name
	PathMatch []string // patterns on the field's dotted path
	// PathUnmatch excludes paths.
	PathUnmatch []string
	// MatchMappingType limits the rule to JSON types Elasticsearch detects
	// ("string", "long", "double", "boolean", "object"); empty: all.
	MatchMappingType []string
	// UnmatchMappingType excludes JSON types.
	UnmatchMappingType []string
	// Type is the mapping type the rule gives.
	Type string
	// Legacy marks a rule of older releases only.
	Legacy bool
}

// ECSDynamicRules are ecs@mappings' dynamic templates, in order.
var ECSDynamicRules = []DynamicRule{
	{Name: "ecs_timestamp", Match: []string{"@timestamp"}, Type: "date"},
	{Name: "ecs_message_match_only_text", PathMatch: []string{"message", "*.message"}, UnmatchMappingType: []string{"object"}, Type: "match_only_text"},
	{Name: "ecs_non_indexed_keyword", PathMatch: []string{"*event.original"}, Type: "keyword"},
	{Name: "ecs_non_indexed_long", PathMatch: []string{"*.x509.public_key_exponent"}, Type: "long"},
	{Name: "ecs_ip", PathMatch: []string{"ip", "*.ip", "*_ip"}, MatchMappingType: []string{"string"}, Type: "ip"},
	{Name: "ecs_wildcard", PathMatch: []string{"*.io.text", "*.message_id", "*registry.data.strings", "*url.path"}, UnmatchMappingType: []string{"object"}, Type: "wildcard"},
	{Name: "ecs_path_match_wildcard_and_match_only_text", PathMatch: []string{"*.body.content", "*url.full", "*url.original"}, UnmatchMappingType: []string{"object"}, Type: "wildcard"},
	{Name: "ecs_match_wildcard_and_match_only_text", Match: []string{"*command_line", "*stack_trace"}, UnmatchMappingType: []string{"object"}, Type: "wildcard"},
	{Name: "ecs_path_match_keyword_and_match_only_text", PathMatch: []string{"*.title", "*.executable", "*.name", "*.working_directory", "*.full_name",
		"*file.path", "*file.target_path", "*os.full", "*email.subject", "*vulnerability.description", "*user_agent.original"}, UnmatchMappingType: []string{"object"}, Type: "keyword"},
	{Name: "ecs_date", PathMatch: []string{"*.timestamp", "*_timestamp", "*.not_after", "*.not_before", "*.accessed", "created", "*.created",
		"*.installed", "*.creation_date", "*.ctime", "*.mtime", "ingested", "*.ingested", "*.start", "*.end",
		"*.indicator.first_seen", "*.indicator.last_seen", "*.indicator.modified_at", "*threat.enrichments.matched.occurred"}, UnmatchMappingType: []string{"object"}, Type: "date"},
	{Name: "ecs_path_match_float", PathMatch: []string{"*.score.*", "*_score*"}, PathUnmatch: []string{"*.version"}, UnmatchMappingType: []string{"object"}, Type: "float"},
	{Name: "ecs_usage_double_scaled_float", PathMatch: []string{"*.usage"}, MatchMappingType: []string{"double", "long", "string"}, Type: "scaled_float"},
	{Name: "ecs_geo_point", PathMatch: []string{"*.geo.location"}, Type: "geo_point"},
	{Name: "ecs_geo_point", PathMatch: []string{"location", "*.location"}, Type: "geo_point", Legacy: true},
	{Name: "ecs_flattened", PathMatch: []string{"*structured_data", "*exports", "*imports"}, MatchMappingType: []string{"object"}, Type: "flattened"},
	{Name: "ecs_gen_ai_integers", PathMatch: []string{"*gen_ai.request.max_tokens", "*gen_ai.usage.input_tokens", "*gen_ai.usage.output_tokens",
		"*gen_ai.request.choice.count", "*gen_ai.request.seed"}, Type: "integer"},
	{Name: "ecs_gen_ai_doubles", PathMatch: []string{"*gen_ai.request.temperature", "*gen_ai.request.top_k", "*gen_ai.request.frequency_penalty",
		"*gen_ai.request.presence_penalty", "*gen_ai.request.top_p"}, Type: "double"},
	{Name: "ecs_gen_ai_text", PathMatch: []string{"*gen_ai.request.model", "*gen_ai.agent.description"}, Type: "text"},
	{Name: "all_strings_to_keywords", MatchMappingType: []string{"string"}, Type: "keyword"},
}

// Matches reports whether the rule applies to a field at the dotted path
// whose value Elasticsearch detects as jsonType.
func (r *DynamicRule) Matches(path, jsonType string) bool {
	if len(r.MatchMappingType) > 0 && !contains(r.MatchMappingType, jsonType) || contains(r.UnmatchMappingType, jsonType) {
		return false
	}
	name := path[strings.LastIndexByte(path, '.')+1:]
	if len(r.Match) > 0 && !anyMatch(r.Match, name) || len(r.PathMatch) > 0 && !anyMatch(r.PathMatch, path) {
		return false
	}
	return !anyMatch(r.PathUnmatch, path)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if simpleMatch(p, s) {
			return true
		}
	}
	return false
}

// simpleMatch is Elasticsearch's simple pattern match: '*' matches any
// run of characters (none included), everything else itself.
func simpleMatch(pattern, s string) bool {
	first := strings.IndexByte(pattern, '*')
	if first < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:first]) {
		return false
	}
	s, pattern = s[first:], pattern[first+1:]
	for {
		next := strings.IndexByte(pattern, '*')
		if next < 0 {
			return strings.HasSuffix(s, pattern)
		}
		i := strings.Index(s, pattern[:next])
		if i < 0 {
			return false
		}
		s, pattern = s[i+next:], pattern[next+1:]
	}
}

// ECSRuleFor returns the first ecs@mappings rule that decides the mapping
// of an unmapped field at path with a value of jsonType, or nil (Elasticsearch's
// default dynamic mapping then decides). legacy includes rules of older
// releases.
func ECSRuleFor(path, jsonType string, legacy bool) *DynamicRule {
	for i := range ECSDynamicRules {
		r := &ECSDynamicRules[i]
		if r.Legacy && !legacy {
			continue
		}
		if r.Matches(path, jsonType) {
			return r
		}
	}
	return nil
}
