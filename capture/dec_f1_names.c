/* dec_f1_names.c - the tables of f1.h: layouts per format year, track and team names. */
#include <stddef.h>

#include "capture/f1.h"

/* Team ids, EA appendix per game. */
const char *const f1_teams_2023[F1_TEAM_IDS] = {
	[0] = "Mercedes", [1] = "Ferrari", [2] = "Red Bull Racing", [3] = "Williams",
	[4] = "Aston Martin", [5] = "Alpine", [6] = "Alpha Tauri", [7] = "Haas",
	[8] = "McLaren", [9] = "Alfa Romeo", [41] = "F1 Generic",
	[85] = "Mercedes 2020", [86] = "Ferrari 2020", [87] = "Red Bull 2020",
	[88] = "Williams 2020", [89] = "Racing Point 2020", [90] = "Renault 2020",
	[91] = "Alpha Tauri 2020", [92] = "Haas 2020", [93] = "McLaren 2020",
	[94] = "Alfa Romeo 2020", [95] = "Aston Martin DB11 V12",
	[96] = "Aston Martin Vantage F1 Edition", [97] = "Aston Martin Vantage Safety Car",
	[98] = "Ferrari F8 Tributo", [99] = "Ferrari Roma", [100] = "McLaren 720S",
	[101] = "McLaren Artura", [102] = "Mercedes AMG GT Black Series Safety Car",
	[103] = "Mercedes AMG GTR Pro", [104] = "F1 Custom Team", [106] = "Prema '21",
	[107] = "Uni-Virtuosi '21", [108] = "Carlin '21", [109] = "Hitech '21",
	[110] = "Art GP '21", [111] = "MP Motorsport '21", [112] = "Charouz '21",
	[113] = "Dams '21", [114] = "Campos '21", [115] = "BWT '21", [116] = "Trident '21",
	[117] = "Mercedes AMG GT Black Series", [118] = "Mercedes '22", [119] = "Ferrari '22",
	[120] = "Red Bull Racing '22", [121] = "Williams '22", [122] = "Aston Martin '22",
	[123] = "Alpine '22", [124] = "Alpha Tauri '22", [125] = "Haas '22",
	[126] = "McLaren '22", [127] = "Alfa Romeo '22", [128] = "Konnersport '22",
	[129] = "Konnersport", [130] = "Prema '22", [131] = "Virtuosi '22",
	[132] = "Carlin '22", [133] = "MP Motorsport '22", [134] = "Charouz '22",
	[135] = "Dams '22", [136] = "Campos '22", [137] = "Van Amersfoort Racing '22",
	[138] = "Trident '22", [139] = "Hitech '22", [140] = "Art GP '22",
};

const char *const f1_teams_2024[F1_TEAM_IDS] = {
	[0] = "Mercedes", [1] = "Ferrari", [2] = "Red Bull Racing", [3] = "Williams",
	[4] = "Aston Martin", [5] = "Alpine", [6] = "RB", [7] = "Haas", [8] = "McLaren",
	[9] = "Sauber", [41] = "F1 Generic", [104] = "F1 Custom Team",
	[143] = "Art GP '23", [144] = "Campos '23", [145] = "Carlin '23", [146] = "PHM '23",
	[147] = "Dams '23", [148] = "Hitech '23", [149] = "MP Motorsport '23",
	[150] = "Prema '23", [151] = "Trident '23", [152] = "Van Amersfoort Racing '23",
	[153] = "Virtuosi '23",
};

const char *const f1_teams_2025[F1_TEAM_IDS] = {
	[0] = "Mercedes", [1] = "Ferrari", [2] = "Red Bull Racing", [3] = "Williams",
	[4] = "Aston Martin", [5] = "Alpine", [6] = "RB", [7] = "Haas", [8] = "McLaren",
	[9] = "Sauber", [41] = "F1 Generic", [104] = "F1 Custom Team", [129] = "Konnersport",
	[142] = "APXGP '24", [154] = "APXGP '25", [155] = "Konnersport '24",
	[158] = "Art GP '24", [159] = "Campos '24", [160] = "Rodin Motorsport '24",
	[161] = "AIX Racing '24", [162] = "DAMS '24", [163] = "Hitech '24",
	[164] = "MP Motorsport '24", [165] = "Prema '24", [166] = "Trident '24",
	[167] = "Van Amersfoort Racing '24", [168] = "Invicta '24", [185] = "Mercedes '24",
	[186] = "Ferrari '24", [187] = "Red Bull Racing '24", [188] = "Williams '24",
	[189] = "Aston Martin '24", [190] = "Alpine '24", [191] = "RB '24", [192] = "Haas '24",
	[193] = "McLaren '24", [194] = "Sauber '24",
};

/* Track ids, EA appendix (F1 23-25 share the numbering; 39-41 are F1 25 only). */
const char *const f1_tracks[F1_TRACK_IDS] = {
	[0] = "Melbourne", [1] = "Paul Ricard", [2] = "Shanghai", [3] = "Sakhir (Bahrain)",
	[4] = "Catalunya", [5] = "Monaco", [6] = "Montreal", [7] = "Silverstone",
	[8] = "Hockenheim", [9] = "Hungaroring", [10] = "Spa", [11] = "Monza",
	[12] = "Singapore", [13] = "Suzuka", [14] = "Abu Dhabi", [15] = "Texas",
	[16] = "Brazil", [17] = "Austria", [18] = "Sochi", [19] = "Mexico",
	[20] = "Baku (Azerbaijan)", [21] = "Sakhir Short", [22] = "Silverstone Short",
	[23] = "Texas Short", [24] = "Suzuka Short", [25] = "Hanoi", [26] = "Zandvoort",
	[27] = "Imola", [28] = "Portimao", [29] = "Jeddah", [30] = "Miami",
	[31] = "Las Vegas", [32] = "Losail", [39] = "Silverstone (Reverse)",
	[40] = "Austria (Reverse)", [41] = "Zandvoort (Reverse)",
};

const uint8_t f1_wheel[4] = { 2, 3, 0, 1 };

const struct f1_layout f1_layouts[F1_FORMATS] = {
	{
		.format = 2023, .game_year = 23, .game = PW_GAME_F1_23,
		.size = { 1349, 644, 1131, 45, 1306, 1107, 1352, 1239, 1020, 1218, 953, 1460, 231,
			  217, 0, 0 },
		.lap_rec = 50, .lap_dist_off = 18, .part_rec = 58, .name_len = 48, .damage_rec = 42,
		.race_first = 10, .teams = f1_teams_2023,
	},
	{
		.format = 2024, .game_year = 24, .game = PW_GAME_F1_24,
		.size = { 1349, 753, 1285, 45, 1350, 1133, 1352, 1239, 1020, 1306, 953, 1460, 231,
			  237, 101, 0 },
		.lap_rec = 57, .lap_dist_off = 20, .part_rec = 60, .name_len = 48, .damage_rec = 42,
		.race_first = 15, .teams = f1_teams_2024,
	},
	{
		.format = 2025, .game_year = 25, .game = PW_GAME_F1_25,
		.size = { 1349, 753, 1285, 45, 1284, 1133, 1352, 1239, 1042, 954, 1041, 1460, 231,
			  273, 101, 1131 },
		.lap_rec = 57, .lap_dist_off = 20, .part_rec = 57, .name_len = 32, .damage_rec = 46,
		.race_first = 15, .teams = f1_teams_2025,
	},
};

const struct f1_layout *f1_layout_of(unsigned format)
{
	for (size_t i = 0; i < F1_FORMATS; i++)
		if (f1_layouts[i].format == format)
			return &f1_layouts[i];
	return NULL;
}
